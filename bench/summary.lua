-- wrk script: GET /v1/plans/PLAN/summary (counts, overdue list and the unit ranking).
local token = os.getenv("BENCH_TOKEN")
local plan = os.getenv("BENCH_PLAN")
local headers = { ["Authorization"] = "Bearer " .. token }
request = function()
  return wrk.format("GET", "/v1/plans/" .. plan .. "/summary", headers)
end
