-- htmx banner answers from first-time visitors: each request a new decision (and record).
dofile("bench/report.lua")

local token
local choices = { "accept-all", "reject-all" }
local turn = 0

function init(args)
  token = args[1]
end

function request()
  turn = turn + 1
  local body = "_csrf_token=" .. token .. "&choice=" .. choices[turn % 2 + 1] .. "&next=%2F"
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-Proto"] = "https",  -- the simulated TLS proxy (wrk.format drops -H headers)
    ["HX-Request"] = "true",
    ["Cookie"] = "__Host-csrftoken=" .. token,
  }
  return wrk.format("POST", "/consent", headers, body)
end
