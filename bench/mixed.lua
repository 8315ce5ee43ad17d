-- wrk script: a mixed load on the bench plan: 80% single-task reads,
-- 8% lists of 50, 4% summaries, 8% progress reports.
local ids = {}
local token = os.getenv("BENCH_TOKEN")
local plan = os.getenv("BENCH_PLAN")
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local get = { ["Authorization"] = "Bearer " .. token }
local post = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
request = function()
  local x = math.random(100)
  local id = ids[math.random(#ids)]
  if x <= 80 then
    return wrk.format("GET", "/v1/tasks/" .. id, get)
  elseif x <= 88 then
    return wrk.format("GET", "/v1/tasks?plan=" .. plan .. "&limit=50", get)
  elseif x <= 92 then
    return wrk.format("GET", "/v1/plans/" .. plan .. "/summary", get)
  end
  local body = string.format('{"progress":%d,"note":"bench"}', math.random(0, 100))
  return wrk.format("POST", "/v1/tasks/" .. id .. "/updates", post, body)
end
