//go:build linux

package ksauth

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The integration Keystones must not outlive a killed test binary: up.sh
// starts scripts/keystone/watchdog.sh next to uwsgi, with the test binary's
// pid. These tests run that watchdog on cheap stand-ins: a `sleep` as the
// test binary (SIGKILLed) and a process group like uwsgi's (a leader in its
// own session with a child that does not get the leader's signals).

// startWatchdogScenario starts the parent stand-in, the target group and the
// watchdog (detached, as up.sh does). It returns them and the pid of the
// target's child.
func startWatchdogScenario(t *testing.T) (parent, target, watchdog *exec.Cmd, worker int) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	parent = exec.Command("sleep", "1000")
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })

	// Like uwsgi: a session leader (setsid) with a worker; the worker only dies
	// if the whole group is signalled.
	target = exec.Command("bash", "-c", `sleep 1000 & echo $!; wait`)
	target.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := target.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-target.Process.Pid, syscall.SIGKILL) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if worker, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
		t.Fatalf("worker pid %q: %v", line, err)
	}

	watchdog = exec.Command("bash", "scripts/keystone/watchdog.sh",
		strconv.Itoa(parent.Process.Pid), strconv.Itoa(target.Process.Pid))
	watchdog.Env = append(os.Environ(), "KEYSTONE_WATCHDOG_INTERVAL=0.1", "KEYSTONE_WATCHDOG_GRACE=2")
	watchdog.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	watchdog.Stderr = &testWriter{t}
	if err := watchdog.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watchdog.Process.Kill(); watchdog.Wait() })
	return parent, target, watchdog, worker
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitExit waits at most d for cmd to exit.
func waitExit(t *testing.T, what string, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s (pid %d) still running after %s", what, cmd.Process.Pid, d)
		return nil
	}
}

// procAlive reports whether pid runs and is not a zombie.
func procAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func TestKeystoneWatchdogStopsGroupWhenParentIsKilled(t *testing.T) {
	for _, reap := range []bool{false, true} {
		// Unreaped, the killed parent is a zombie (its own parent, go test,
		// may be busy or gone); reaped, its pid is free.
		t.Run(map[bool]string{false: "zombie parent", true: "reaped parent"}[reap], func(t *testing.T) {
			start := time.Now()
			parent, target, watchdog, worker := startWatchdogScenario(t)

			time.Sleep(500 * time.Millisecond) // several watchdog rounds
			if !procAlive(target.Process.Pid) || !procAlive(worker) {
				t.Fatal("the watchdog stopped the target while its parent was alive")
			}

			if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if reap {
				parent.Wait()
			}
			killed := time.Now()
			err := waitExit(t, "target", target, 5*time.Second)
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) {
				t.Fatalf("target exited with %v, want killed by a signal", err)
			}
			if ws := exitErr.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
				t.Errorf("target: %v, want SIGTERM first", err)
			}
			for deadline := time.Now().Add(5 * time.Second); procAlive(worker); {
				if time.Now().After(deadline) {
					t.Fatalf("worker pid %d survived its group leader", worker)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := waitExit(t, "watchdog", watchdog, 5*time.Second); err != nil {
				t.Errorf("watchdog: %v", err)
			}
			t.Logf("target group gone %s after the parent's SIGKILL (test %s)",
				time.Since(killed).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		})
	}
}

// After a normal down.sh the watchdog goes away by itself and kills nothing.
func TestKeystoneWatchdogExitsWhenTargetStops(t *testing.T) {
	parent, target, watchdog, _ := startWatchdogScenario(t)
	syscall.Kill(-target.Process.Pid, syscall.SIGTERM) // what down.sh does, roughly
	target.Wait()
	if err := waitExit(t, "watchdog", watchdog, 5*time.Second); err != nil {
		t.Errorf("watchdog: %v", err)
	}
	if !procAlive(parent.Process.Pid) {
		t.Error("parent died")
	}
}

// up.sh refuses a KEYSTONE_PARENT_PID that is not a running process, before
// touching anything.
func TestKeystoneUpRejectsDeadParent(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, pid := range []string{strconv.Itoa(dead.Process.Pid), "12abc"} {
		cmd := exec.Command("bash", "scripts/keystone/up.sh")
		cmd.Env = append(os.Environ(), "KEYSTONE_DIR="+dir+"/ks", "KEYSTONE_PARENT_PID="+pid)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "KEYSTONE_PARENT_PID") {
			t.Errorf("up.sh with KEYSTONE_PARENT_PID=%s: %v: %s", pid, err, out)
		}
		if _, err := os.Stat(dir + "/ks"); err == nil {
			t.Errorf("up.sh created %s/ks", dir)
		}
	}
}
