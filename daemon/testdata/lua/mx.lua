-- Moves every MX to priority 5 and a new exchange, and a TXT gets two
-- strings: fields left out keep the incoming values.
function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   if qtype == pdns.MX then
      return 0, { { prio = 5 }, { prio = prio + 1, content = "backup." .. zone } }
   end
   if qtype == pdns.SRV then
      return 0, { { ttl = 42 } }
   end
   return pdns.PASS, {}
end
