package zonefile

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestDigest(t *testing.T) {
	defer func(n int) { digestBlock = n }(digestBlock)
	digestBlock = 1000
	load := func(text string) *Zone {
		t.Helper()
		z, _, err := Parse(strings.NewReader(text), "example.org.", "t.zone")
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	var big strings.Builder
	big.WriteString(head)
	for i := range 3 * digestBlock {
		fmt.Fprintf(&big, "h%d IN A 127.0.%d.%d\n", i, i>>8&255, i&255)
	}
	base := Digest(load(head + "www IN A 127.0.0.2\nwww IN TXT \"x\"\n"))
	for name, tc := range map[string]struct {
		text string
		same bool
	}{
		"same":            {head + "www IN A 127.0.0.2\nwww IN TXT \"x\"\n", true},
		"reordered":       {head + "www IN TXT \"x\"\nwww IN A 127.0.0.2\n", true},
		"owner case":      {head + "WWW IN A 127.0.0.2\nwww IN TXT \"x\"\n", true},
		"comments":        {"; hi\n" + head + "www IN A 127.0.0.2 ; there\nwww IN TXT \"x\"\n", true},
		"address":         {head + "www IN A 127.0.0.3\nwww IN TXT \"x\"\n", false},
		"ttl":             {head + "www 60 IN A 127.0.0.2\nwww IN TXT \"x\"\n", false},
		"text":            {head + "www IN A 127.0.0.2\nwww IN TXT \"X\"\n", false},
		"owner":           {head + "ww IN A 127.0.0.2\nwww IN TXT \"x\"\n", false},
		"one record more": {head + "www IN A 127.0.0.2\nwww IN TXT \"x\"\nwww IN TXT \"y\"\n", false},
	} {
		if got := Digest(load(tc.text)) == base; got != tc.same {
			t.Errorf("%s: digest equal %v, want %v", name, got, tc.same)
		}
	}

	// Many blocks: the same whatever the number of goroutines.
	z := load(big.String())
	d := Digest(z)
	prev := runtime.GOMAXPROCS(1)
	d1 := Digest(z)
	runtime.GOMAXPROCS(prev)
	if d != d1 {
		t.Error("digest depends on GOMAXPROCS")
	}
	z.Records[2*digestBlock+5].Header().Ttl++
	if Digest(z) == d {
		t.Error("TTL change in a late block not seen")
	}
}
