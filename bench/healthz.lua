-- wrk script: GET /healthz (no database, no auth): the daemon's HTTP ceiling.
request = function()
  return wrk.format("GET", "/healthz")
end
