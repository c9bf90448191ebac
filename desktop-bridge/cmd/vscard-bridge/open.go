package main

import (
	"bufio"
	"context"
	"errors"
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
	fmt.Fprintf(os.Stderr, "Handing the portal's link from %s to the Desktop App\n", h.Server)

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
				fmt.Printf("PIN page: %s\n", m.PINPage)
				if !o.NoBrowser {
					openBrowser(m.PINPage, log)
				}
				if !o.Wait {
					return false // the page takes it from here
				}
			}
		case agent.MsgPINNeeded:
			a, err := readPIN(stdin, m.PINRequest)
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
			printEvent(ev)
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
			fmt.Fprintln(os.Stderr, "The agent is creating the card; `vscard-bridge cards` lists it when it is ready.")
		}
		return nil
	}
	if final.Step != handoff.StepDone {
		if handErr != nil {
			return fmt.Errorf("%s (%w)", final.Error, handErr)
		}
		return errors.New(final.Error)
	}
	printResult(final.Result)
	return nil
}

// readPIN prints why the previous answer was refused and reads the next: one line, or
// two (current, then new) when the prompt changes a PIN.
func readPIN(in *bufio.Scanner, req *handoff.PINRequest) (handoff.PINAnswer, error) {
	var a handoff.PINAnswer
	if req != nil {
		if len(req.Problems) > 0 {
			fmt.Fprintln(os.Stderr, "The PIN was refused:")
			for _, p := range req.Problems {
				fmt.Fprintln(os.Stderr, "  -", p.Message)
			}
		} else {
			fmt.Fprintf(os.Stderr, "Card for %s. Verification code: %s\n", req.Claim.UserName, req.Claim.VerificationCode)
			fmt.Fprintln(os.Stderr, "PIN rules:")
			for _, r := range req.Claim.Rules {
				fmt.Fprintln(os.Stderr, "  -", r)
			}
		}
	}
	var err error
	if req != nil && req.Mode == handoff.PINChange {
		if a.Current, err = readLine(in, "Current PIN: "); err != nil {
			return a, err
		}
		a.New, err = readLine(in, "New PIN: ")
		return a, err
	}
	a.New, err = readLine(in, "PIN: ")
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

func printEvent(ev *handoff.Event) {
	switch ev.Step {
	case handoff.StepClaimed:
		fmt.Fprintf(os.Stderr, "Order claimed for %s. Verification code: %s\n", ev.Claim.UserName, ev.Claim.VerificationCode)
	case handoff.StepFailed:
		fmt.Fprintf(os.Stderr, "Failed: %s\n", ev.Error)
	case handoff.StepCancelled:
		fmt.Fprintf(os.Stderr, "Cancelled: %s\n", ev.Error)
	case handoff.StepDone:
	default:
		fmt.Fprintf(os.Stderr, "  %s\n", strings.ReplaceAll(string(ev.Step), "_", " "))
	}
}

func printResult(r *handoff.Result) {
	fmt.Printf("Card %s is ready in reader %q (for %s, valid until %s, %s from claim to ready).\n",
		r.Serial, r.Reader, r.UserName, r.ValidUntil.Local().Format(time.DateOnly), r.Duration.Round(time.Millisecond))
	for _, c := range r.Certificates {
		fmt.Printf("  slot %s  %-14s  %s  expires %s\n", c.Slot, c.Template, c.Subject, c.NotAfter.Local().Format(time.DateOnly))
	}
	fmt.Println("Go back to the portal and click Next to finish.")
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
		fmt.Fprintln(os.Stderr, "Open the PIN page above in your browser.")
		return
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		log.Warn("open browser", "err", err)
		return
	}
	go func() { _ = cmd.Wait() }()
}
