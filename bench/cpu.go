package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: 100 on every
// Linux architecture Go supports.
const userHZ = 100

// procCPU returns the user+system CPU time process pid (0: this process)
// has used so far, read from /proc/PID/stat; ok is false where there is no
// /proc (the report then prints "-"). The resolution is 10 ms, ample for
// phases of seconds.
func procCPU(pid int) (d time.Duration, ok bool) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parseStatCPU(data)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from the contents
// of /proc/PID/stat. Field 2 is the command in parentheses and may hold
// spaces, so fields are counted after the last ')'.
func parseStatCPU(data []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(data[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / userHZ, true
}

// cpuMeter samples the CPU time of the serving process and of the client
// (this process) at the edges of a measured window.
type cpuMeter struct {
	pid                  int
	srv0, cli0           time.Duration
	server, client       time.Duration // used within the window
	srvOK, cliOK, active bool
}

func (m *cpuMeter) begin() {
	m.srv0, m.srvOK = procCPU(m.pid)
	m.cli0, m.cliOK = procCPU(0)
	m.active = true
}

func (m *cpuMeter) end() {
	if !m.active {
		return
	}
	s, ok := procCPU(m.pid)
	m.srvOK = m.srvOK && ok
	m.server = s - m.srv0
	c, ok := procCPU(0)
	m.cliOK = m.cliOK && ok
	m.client = c - m.cli0
}
