-- wrk script: GET /v1/tasks/{id} over a random task from ids.txt.
local ids = {}
local token = os.getenv("BENCH_TOKEN")
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local headers = { ["Authorization"] = "Bearer " .. token }
request = function()
  return wrk.format("GET", "/v1/tasks/" .. ids[math.random(#ids)], headers)
end
