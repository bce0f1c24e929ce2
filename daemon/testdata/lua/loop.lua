function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   while true do end
   return pdns.PASS, {}
end
