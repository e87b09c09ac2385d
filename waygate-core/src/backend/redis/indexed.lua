-- Every value of an index, in one round trip: the members of the set KEYS[1], each read
-- from ARGV[1] .. member (members whose value is gone are skipped). Values are read in
-- chunks, below Lua's limit on unpacked arguments.
local members = redis.call('SMEMBERS', KEYS[1])
local values = {}
for i = 1, #members, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, #members) do
    chunk[#chunk + 1] = ARGV[1] .. members[j]
  end
  local found = redis.call('MGET', unpack(chunk))
  for j = 1, #found do
    if found[j] then
      values[#values + 1] = found[j]
    end
  end
end
return values
