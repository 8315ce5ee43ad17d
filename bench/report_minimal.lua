-- wrk script: POST /v1/tasks/{id}/updates (a progress report) on a random
-- task with Prefer: return=minimal (RFC 7240): 204, no task document rendered.
local ids = {}
local token = os.getenv("BENCH_TOKEN")
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
                  ["Prefer"] = "return=minimal" }
request = function()
  local body = string.format('{"progress":%d,"note":"bench"}', math.random(0, 100))
  return wrk.format("POST", "/v1/tasks/" .. ids[math.random(#ids)] .. "/updates", headers, body)
end
