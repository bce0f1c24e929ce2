dofile("/etc/passwd")
function axfrfilter(remoteip, zone, qname, qtype, ttl, prio, content)
   return pdns.PASS, {}
end
