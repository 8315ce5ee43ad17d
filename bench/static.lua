-- wrk script: GET /list.json from nginx: a static file of the same bytes as
-- the daemon's list of 50, the machine's ceiling for answers of that size.
request = function()
  return wrk.format("GET", "/list.json")
end
