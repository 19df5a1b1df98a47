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

// memInfo is a process's resident memory from /proc/PID/status.
type memInfo struct {
	rss, hwm   int64 // VmRSS now, VmHWM (the peak), bytes
	anon, file int64 // RssAnon (heap, stacks) and RssFile (mapped files: SQLite's mmap of the database)
	ok, split  bool  // ok: rss and hwm were read; split: anon and file too
}

// procMem reads process pid's memory; ok is false where there is no /proc.
func procMem(pid int) memInfo {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}
	}
	return parseStatusMem(data)
}

// parseStatusMem reads the VmRSS, VmHWM, RssAnon and RssFile lines ("VmRSS:
// 12345 kB") of /proc/PID/status.
func parseStatusMem(data []byte) memInfo {
	var m memInfo
	var seen [4]bool
	for _, line := range bytes.Split(data, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(v)
		if len(f) != 2 || string(f[1]) != "kB" {
			continue
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			continue
		}
		n *= 1024
		switch string(k) {
		case "VmRSS":
			m.rss, seen[0] = n, true
		case "VmHWM":
			m.hwm, seen[1] = n, true
		case "RssAnon":
			m.anon, seen[2] = n, true
		case "RssFile":
			m.file, seen[3] = n, true
		}
	}
	m.ok = seen[0] && seen[1]
	m.split = m.ok && seen[2] && seen[3]
	return m
}

// String is e.g. "VmRSS 84.2 MiB (anon 60.1, file 24.1), peak 120.3 MiB".
func (m memInfo) String() string {
	if !m.ok {
		return "not measured (no /proc)"
	}
	s := fmt.Sprintf("VmRSS %s", mib(m.rss))
	if m.split {
		s += fmt.Sprintf(" (anon %.1f, file %.1f)", float64(m.anon)/(1<<20), float64(m.file)/(1<<20))
	}
	return s + fmt.Sprintf(", peak VmHWM %s", mib(m.hwm))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
