-- Rewrites the SOA serial to YYYYMMDDnn (UTC date, nn the primary's
-- serial modulo 100); every other record passes.
function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   if qtype ~= pdns.SOA then
      return pdns.PASS, {}
   end
   local mname, rname, serial, rest = string.match(content, "^(%S+)%s+(%S+)%s+(%d+)%s+(.*)$")
   local new = os.date("!%Y%m%d") .. string.format("%02d", tonumber(serial) % 100)
   return 0, { { content = mname .. " " .. rname .. " " .. new .. " " .. rest } }
end
