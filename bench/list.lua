-- wrk script: GET /v1/tasks?plan=PLAN&limit=50 (the first page of the bench plan).
local token = os.getenv("BENCH_TOKEN")
local plan = os.getenv("BENCH_PLAN")
local headers = { ["Authorization"] = "Bearer " .. token }
request = function()
  return wrk.format("GET", "/v1/tasks?plan=" .. plan .. "&limit=50", headers)
end
