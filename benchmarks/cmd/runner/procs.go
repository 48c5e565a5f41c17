package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// procs tracks every process the runner starts, so that each is stopped by
// its PID when it is no longer needed, and all of them when the runner is
// interrupted.
type procs struct {
	mu   sync.Mutex
	live map[int]*child
}

// child is a started process. done closes when it has exited; err is then
// what Wait returned.
type child struct {
	name  string
	cmd   *exec.Cmd
	done  chan struct{}
	err   error
	lines chan string // stdout lines, when asked for; closed at EOF
}

// start runs argv with stdout and stderr appended to logPath, or, with
// wantLines, stdout delivered line by line on p.lines.
func (ps *procs) start(name string, argv []string, logPath string, wantLines bool) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	fmt.Fprintf(logf, "$ %q\n", argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// A backstop for a runner that is killed outright: the children get
	// SIGKILL when the thread that started them goes away.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &child{name: name, cmd: cmd, done: make(chan struct{})}
	var pw *os.File
	if wantLines {
		var pr *os.File
		if pr, pw, err = os.Pipe(); err != nil {
			return nil, err
		}
		cmd.Stdout = pw
		p.lines = make(chan string, 64)
		go func() {
			defer pr.Close()
			defer close(p.lines)
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				fmt.Fprintln(logf, sc.Text())
				p.lines <- sc.Text()
			}
		}()
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.live == nil {
		return nil, errors.New("runner is stopping")
	}
	if err := cmd.Start(); err != nil {
		if pw != nil {
			pw.Close()
		}
		return nil, err
	}
	if pw != nil {
		pw.Close() // the child holds the write end; EOF comes when it exits
	}
	ps.live[cmd.Process.Pid] = p
	go func() {
		p.err = cmd.Wait()
		ps.mu.Lock()
		delete(ps.live, cmd.Process.Pid)
		ps.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

func (p *child) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *child) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL if the process has not exited after
// grace; it returns once the process has exited.
func (p *child) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// wait waits up to timeout for the process to exit by itself, kills it
// after that, and returns why it did not exit cleanly, if it did not.
func (p *child) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.stop(time.Second)
		return fmt.Errorf("%s did not exit within %v: killed", p.name, timeout)
	}
}

// stopping reports whether killAll has run: the runner is exiting.
func (ps *procs) stopping() bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.live == nil
}

// killAll kills every live process and refuses new ones.
func (ps *procs) killAll() {
	ps.mu.Lock()
	live := ps.live
	ps.live = nil
	ps.mu.Unlock()
	for _, p := range live {
		_ = p.cmd.Process.Kill()
	}
	for _, p := range live {
		<-p.done
	}
}
