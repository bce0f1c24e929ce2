function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   if qtype == then
      return pdns.DROP, {}
   end
   return pdns.PASS, {}
end
