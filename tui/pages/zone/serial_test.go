package zone

import (
	"testing"
	"time"

	"zonekeeper/daemon/api"
)

func TestTUINextSerial(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		old    uint32
		policy string
		want   uint32
	}{
		{2026112101, api.SerialIncrement, 2026112102},
		{4294967295, api.SerialIncrement, 0},
		{7, api.SerialDate, 2026112100},
		{2026112100, api.SerialDate, 2026112101},
		{2026112205, api.SerialDate, 2026112206},
		{7, api.SerialUnixtime, uint32(now.Unix())},
		{uint32(now.Unix()) + 5, api.SerialUnixtime, uint32(now.Unix()) + 6},
	}
	for _, tt := range tests {
		if got := nextSerial(tt.old, tt.policy, now); got != tt.want {
			t.Errorf("nextSerial(%d, %s) = %d, want %d", tt.old, tt.policy, got, tt.want)
		}
	}
}
