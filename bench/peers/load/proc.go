package load

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: the kernel
// reports them in USER_HZ, which is 100 on every Linux architecture Go
// supports (sysconf(_SC_CLK_TCK) would need cgo to ask).
const userHZ = 100

// ProcCPU is the CPU time (user plus system, all threads) the process pid
// has used so far, with 10 ms resolution; sample it before and after a run.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold blanks or
	// ')' itself, so the fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("load: /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state is field 3, utime field 14, stime field 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("load: /proc/%d/stat: %d fields", pid, len(f))
	}
	u, err1 := strconv.ParseUint(f[utime], 10, 64)
	s, err2 := strconv.ParseUint(f[stime], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("load: /proc/%d/stat: bad utime/stime %q %q", pid, f[utime], f[stime])
	}
	return time.Duration(u+s) * time.Second / userHZ, nil
}

// ProcRSS is the peak (VmHWM) and current (VmRSS) resident set size of the
// process pid, in kB.
func ProcRSS(pid int) (peakKB, curKB int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("load: %w", err)
	}
	peakKB, curKB = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("load: /proc/%d/status: %s: %w", pid, key, err)
		}
		if key == "VmHWM" {
			peakKB = n
		} else {
			curKB = n
		}
	}
	if peakKB < 0 || curKB < 0 {
		// Kernel threads and zombies have no memory lines.
		return 0, 0, fmt.Errorf("load: /proc/%d/status: no VmHWM/VmRSS", pid)
	}
	return peakKB, curKB, nil
}
