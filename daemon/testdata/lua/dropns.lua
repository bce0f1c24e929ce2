-- Drops every NS record: the result is not a valid zone.
function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   if qtype == pdns.NS then
      return pdns.DROP, {}
   end
   return pdns.PASS, {}
end
