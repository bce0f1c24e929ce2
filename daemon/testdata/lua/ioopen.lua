function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   local f = io.open("/etc/passwd", "r")
   return pdns.PASS, {}
end
