-- htmx row saves: each request renames the next signed-in user (round-robin), sending the
-- profile version that user's previous save left (versions start at 1). A stale version
-- would answer 409 and count as non-2xx in the report.
dofile("bench/report.lua")

local token
local sessions = {}
local versions = {}
local turn = 0

function init(args)
  token = args[1]
  for i = 2, #args do
    sessions[#sessions + 1] = args[i]
    versions[#versions + 1] = 1
  end
end

function request()
  turn = turn % #sessions + 1
  local version = versions[turn]
  versions[turn] = version + 1
  local body = "_csrf_token=" .. token .. "&version=" .. version .. "&name=Profile+" .. turn .. "+rev+" .. version
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-Proto"] = "https",  -- the simulated TLS proxy (wrk.format drops -H headers)
    ["HX-Request"] = "true",
    ["Cookie"] = "__Host-csrftoken=" .. token .. "; __Host-session=" .. sessions[turn],
  }
  return wrk.format("POST", "/profile/edit/name", headers, body)
end
