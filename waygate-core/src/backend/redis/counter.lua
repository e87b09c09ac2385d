-- One rate-limit check, atomically, on Redis's clock (so instances with skewed clocks agree).
-- KEYS[1]: the counter. ARGV: algorithm, capacity, period (µs), amount.
-- Returns {allowed (0|1), remaining, reset after (µs), retry after (µs)}, with the semantics
-- of waygate's in-memory counters (src/rate_limit/{fixed,sliding,moving,gcra}.rs).
local key = KEYS[1]
local algorithm = ARGV[1]
local cap = tonumber(ARGV[2])
local w = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function ms(us)
  return math.max(1, math.ceil(us / 1000))
end

local function int(x)
  return string.format('%.0f', x)
end

if algorithm == 'fixed' then
  -- A window opens at the key's first request; refused requests count too.
  local count = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('PEXPIRE', key, ms(w))
    left = ms(w)
  end
  local reset = math.min(left * 1000, w)
  local allowed = count <= cap
  return {allowed and 1 or 0, math.max(0, cap - count), reset, reset}
elseif algorithm == 'sliding' then
  -- Clock-aligned windows; the previous one weighted by the share of it still in the period.
  local index = math.floor(now / w)
  local elapsed = now - index * w
  local s = redis.call('HMGET', key, 'w', 'p', 'c')
  local stored = tonumber(s[1]) or 0
  local prev = tonumber(s[2]) or 0
  local cur = tonumber(s[3]) or 0
  if index < stored then
    index = stored
    elapsed = 0
  elseif index == stored then
    -- same window
  elseif index - stored == 1 then
    prev = cur
    cur = 0
  else
    prev = 0
    cur = 0
  end
  local allowed = cur < cap and prev * (w - elapsed) < (cap - cur) * w
  if allowed then
    cur = cur + 1
  end
  redis.call('HSET', key, 'w', int(index), 'p', int(prev), 'c', int(cur))
  redis.call('PEXPIRE', key, ms(2 * w))
  local left = w - elapsed
  local share = 0
  if prev > 0 then
    share = math.floor(prev * left / w)
  end
  local reset
  if share > 0 then
    local at = math.floor((prev - share) * w / prev) + 1
    if at < w then
      reset = at - elapsed
    else
      reset = left
    end
  elseif cur == 0 then
    reset = 0
  else
    reset = left + 1
  end
  return {allowed and 1 or 0, math.max(0, cap - (cur + share)), reset, reset}
elseif algorithm == 'moving' then
  -- The time of every allowed request; refused ones leave no trace.
  redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - w))
  local live = redis.call('ZCARD', key)
  local allowed = live < cap
  if allowed then
    redis.call('ZADD', key, int(now), int(now) .. '-' .. live)
    live = live + 1
    redis.call('PEXPIRE', key, ms(w))
  end
  local reset = 0
  local retry = 0
  if live > 0 then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    reset = math.max(0, tonumber(oldest[2]) + w - now)
    retry = reset
    local over = live - cap
    if over >= 0 then
      local leaving = redis.call('ZRANGE', key, over, over, 'WITHSCORES')
      if leaving[2] then
        retry = math.max(0, tonumber(leaving[2]) + w - now)
      end
    end
  end
  return {allowed and 1 or 0, math.max(0, cap - live), reset, retry}
else
  -- Token bucket (GCRA): the theoretical arrival time of the next request.
  local interval = math.max(1, math.floor(w / amount))
  local limit = cap * interval
  local tat = tonumber(redis.call('GET', key)) or 0
  local debt = math.max(tat, now) - now
  local allowed = debt + interval <= limit
  if allowed then
    debt = debt + interval
    redis.call('SET', key, int(now + debt), 'PX', ms(debt))
  end
  local remaining = math.floor(math.max(0, limit - debt) / interval)
  local reset = 0
  if debt > 0 then
    reset = math.max(0, debt + (remaining + 1) * interval - limit)
  end
  return {allowed and 1 or 0, remaining, reset, reset}
end
