package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/handoff"
)

type openCmd struct {
	URL       string `arg:"" name:"url" help:"The vscard://enroll link from the portal."`
	PINStdin  bool   `name:"pin-stdin" help:"Read the PIN from standard input, one line per attempt (when changing a PIN: the current PIN, then the new one), instead of opening the PIN page."`
	Trust     bool   `help:"Trust the link's server without asking (adds it to the trusted servers)."`
	Wait      bool   `help:"Wait until the card is ready; exit non-zero if the enrolment fails or is cancelled."`
	NoBrowser bool   `name:"no-browser" help:"Print the PIN page's address without opening it in the browser."`
}

func (o *openCmd) Run(ctx context.Context, g *globals, log *slog.Logger) error {
	// Refuse a bad link here, before starting anything.
	h, err := handoff.ParseLink(o.URL)
	if err != nil {
		return err
	}
	client, err := ensureAgent(ctx, g, log)
	if err != nil {
		return err
	}
	l := lang()
	fmt.Fprintln(os.Stderr, say(l, "handing", h.Server))

	stdin := bufio.NewScanner(os.Stdin)
	var id string
	var final *handoff.Event
	pinAccepted := false
	var handErr error
	err = client.Enrol(ctx, agent.EnrolRequest{URL: o.URL, Trust: o.Trust, ClientPIN: o.PINStdin}, func(m agent.Message) bool {
		switch m.Type {
		case agent.MsgStarted:
			id = m.ID
			if m.PINPage != "" {
				fmt.Println(say(l, "pinPage", m.PINPage))
				if !o.NoBrowser {
					openBrowser(m.PINPage, log)
				}
				if !o.Wait {
					return false // the page takes it from here
				}
			}
		case agent.MsgPINNeeded:
			a, err := readPIN(stdin, m.PINRequest, l)
			if err == nil {
				err = client.SendPIN(ctx, id, a)
			}
			if err != nil {
				handErr = err
				_ = client.CancelEnrolment(context.WithoutCancel(ctx), id)
				return o.Wait
			}
		case agent.MsgEvent:
			ev := m.Event
			printEvent(ev, l)
			switch ev.Step {
			case handoff.StepPINAccepted:
				pinAccepted = true
				if !o.Wait {
					return false
				}
			case handoff.StepDone, handoff.StepFailed, handoff.StepCancelled:
				final = ev
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if handErr != nil && final == nil {
		return handErr
	}
	if final == nil {
		if pinAccepted {
			fmt.Fprintln(os.Stderr, say(l, "creating"))
		}
		return nil
	}
	if final.Step != handoff.StepDone {
		// printEvent has said why, in words; the chain of handErr is for the log.
		if handErr != nil {
			log.Debug("PIN prompt", "err", handErr)
		}
		return errShown
	}
	printResult(final.Result, l)
	return nil
}

// readPIN prints why the previous answer was refused and reads the next: one line, or
// two (current, then new) when the prompt changes a PIN.
func readPIN(in *bufio.Scanner, req *handoff.PINRequest, l string) (handoff.PINAnswer, error) {
	var a handoff.PINAnswer
	if req != nil {
		if len(req.Problems) > 0 {
			fmt.Fprintln(os.Stderr, say(l, "refused"))
			for _, p := range req.Problems {
				fmt.Fprintln(os.Stderr, "  -", handoff.ProblemWords(l, p, req.Claim.PINPolicy))
			}
		} else {
			fmt.Fprintln(os.Stderr, say(l, "cardFor", req.Claim.UserName, req.Claim.VerificationCode))
			if req.Mode != handoff.PINVerify {
				fmt.Fprintln(os.Stderr, say(l, "rules"))
				for _, r := range handoff.PolicyRulesIn(l, req.Claim.PINPolicy) {
					fmt.Fprintln(os.Stderr, "  -", r)
				}
				if n := handoff.RetryNote(l, req.Claim.PINPolicy); n != "" {
					fmt.Fprintln(os.Stderr, n)
				}
			}
		}
	}
	var err error
	if req != nil && req.Mode == handoff.PINChange {
		if a.Current, err = readLine(in, say(l, "currentPIN")); err != nil {
			return a, err
		}
		a.New, err = readLine(in, say(l, "newPIN"))
		return a, err
	}
	a.New, err = readLine(in, say(l, "pin"))
	return a, err
}

func readLine(in *bufio.Scanner, prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	if !in.Scan() {
		if err := in.Err(); err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		return "", fmt.Errorf("read PIN: %w", io.ErrUnexpectedEOF)
	}
	fmt.Fprintln(os.Stderr)
	return strings.TrimRight(in.Text(), "\r"), nil
}

// printEvent tells a person about a step of the run, in l: the words of a failure's or a
// cancel's code, once (never the agent's English text or a state name).
func printEvent(ev *handoff.Event, l string) {
	fmt.Fprint(os.Stderr, eventLine(ev, l))
}

func eventLine(ev *handoff.Event, l string) string {
	switch ev.Step {
	case handoff.StepClaimed:
		return say(l, "claimed", ev.Claim.UserName, ev.Claim.VerificationCode) + "\n"
	case handoff.StepFailed:
		return say(l, "failed", handoff.EventWords(l, *ev)) + "\n"
	case handoff.StepCancelled:
		return say(l, "cancelled", handoff.EventWords(l, *ev)) + "\n"
	}
	if w := say(l, string(ev.Step)); w != "" {
		return "  " + w + "\n"
	}
	return ""
}

// printResult shows the new card in a person's words: its serial, whom it is for, until
// when it and each certificate are valid; no reader names or PIV slots.
func printResult(r *handoff.Result, l string) {
	fmt.Println(say(l, "ready", r.Serial, r.UserName, date(l, r.ValidUntil)))
	for _, c := range r.Certificates {
		use := say(l, c.Template)
		if use == "" {
			use = c.Template
		}
		fmt.Println(say(l, "certificate", use, c.Subject, date(l, c.NotAfter)))
	}
	fmt.Println(say(l, "goBack"))
}

// date writes t as people of l write a date.
func date(l string, t time.Time) string {
	if l == "de" {
		return t.Local().Format("2.1.2006")
	}
	return t.Local().Format("2 January 2006")
}

// ensureAgent returns a client of the running agent, starting one in the background
// if none answers.
func ensureAgent(ctx context.Context, g *globals, log *slog.Logger) (*agent.Client, error) {
	client := agent.NewClient(g.socket())
	if _, err := client.Status(ctx); err == nil {
		return client, nil
	}
	if err := startAgent(g); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := client.Status(ctx)
		if err == nil {
			log.Debug("agent started", "socket", g.socket())
			return client, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("start agent: it does not answer on %s (see %s): %w", g.socket(), agentLogPath(), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startAgent runs `vscard-bridge serve` detached from this process (own session, no
// terminal), logging to $XDG_STATE_HOME/vscard/bridge.log.
func startAgent(g *globals) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	logPath := agentLogPath()
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, append(g.args(), "serve")...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	return cmd.Process.Release()
}

func agentLogPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "vscard", "bridge.log")
}

// openBrowser opens url in the desktop's default browser, if there is a desktop.
func openBrowser(url string, log *slog.Logger) {
	path, err := exec.LookPath("xdg-open")
	if err != nil || (os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "") {
		fmt.Fprintln(os.Stderr, say(lang(), "openPINPage"))
		return
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		log.Warn("open browser", "err", err)
		return
	}
	go func() { _ = cmd.Wait() }()
}
