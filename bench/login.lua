-- Continuous sign-ins: each request a random bench account from a random client network
-- (X-Forwarded-For from 198.18.0.0/15, the benchmarking range; a header, not traffic).
dofile("bench/report.lua")

local token, accounts

function init(args)
  token = args[1]
  accounts = tonumber(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local n = math.random(1, accounts)
  local body = "_csrf_token=" .. token .. "&email=bench" .. n .. "%40example.com&password=bench+password+for+load&next=%2F"
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-Proto"] = "https",  -- the simulated TLS proxy (wrk.format drops -H headers)
    ["Cookie"] = "__Host-csrftoken=" .. token,
    ["X-Forwarded-For"] = "198." .. math.random(18, 19) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254),
  }
  return wrk.format("POST", "/login", headers, body)
end
