-- wrk script: GET $BENCH_PATH (a read of bench/run.sh's reads table: list,
-- summary or ranking, with or without as_of) with the bench token.
local token = os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_PATH")
local headers = { ["Authorization"] = "Bearer " .. token }
request = function()
  return wrk.format("GET", path, headers)
end
