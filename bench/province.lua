-- wrk script for bench/province.sh: the weekly reporting peak. Each request
-- picks a random task of a random sub-district plan (BENCH_IDS lines:
-- "plan task writer-token reader-token"; reports with the plan's writer token,
-- reads with its reader token):
-- 10% progress reports, 45% task reads, 25% the plan's task list (50),
-- 10% the plan summary (ranking), 10% the task's report history.
local rows = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  local p, t, w, r = line:match("(%S+)%s+(%S+)%s+(%S+)%s+(%S+)")
  rows[#rows + 1] = { p, t, { ["Authorization"] = "Bearer " .. r },
                      { ["Authorization"] = "Bearer " .. w, ["Content-Type"] = "application/json" } }
end
request = function()
  local row = rows[math.random(#rows)]
  local get, post = row[3], row[4]
  local x = math.random(100)
  if x <= 10 then
    local body = string.format('{"progress":%d,"note":"本周进展"}', math.random(0, 100))
    return wrk.format("POST", "/v1/tasks/" .. row[2] .. "/updates", post, body)
  elseif x <= 55 then
    return wrk.format("GET", "/v1/tasks/" .. row[2], get)
  elseif x <= 80 then
    return wrk.format("GET", "/v1/tasks?plan=" .. row[1] .. "&limit=50", get)
  elseif x <= 90 then
    return wrk.format("GET", "/v1/plans/" .. row[1] .. "/summary", get)
  end
  return wrk.format("GET", "/v1/tasks/" .. row[2] .. "/updates?limit=10", get)
end

