package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
)

type pinCmd struct {
	Change  pinChangeCmd  `cmd:"" help:"Change a card's PIN on this computer, without the portal."`
	Unblock pinUnblockCmd `cmd:"" help:"Unblock a card's PIN with --offline: a challenge here, the response from the portal on another device."`
}

type pinChangeCmd struct {
	Serial   string `arg:"" help:"Serial of the card (vscard-bridge cards lists them)."`
	PINStdin bool   `name:"pin-stdin" help:"Read the PINs from standard input, one line each: the current PIN, then the new one (again after a refusal)."`
}

// pivPIN is what a PIV card itself takes as a PIN: the rules for a card whose server
// never gave its PIN policy (a record from before the agent kept it).
var pivPIN = cardspec.PINPolicy{MinLength: 6, MaxLength: 8}

// policyOf is the PIN policy a new PIN of card must meet: the last one its server gave
// (at issuance, in a process on the card, at a sync), which the agent keeps with the
// card's record, else the card's own limits.
func policyOf(card agent.CardInfo) cardspec.PINPolicy {
	if card.PINPolicy != nil {
		return *card.PINPolicy
	}
	return pivPIN
}

// Run changes the PIN of a card the agent hosts, through PC/SC as any program would:
// the agent puts the card into a reader, and this command talks to the card there. The
// result goes to the card's server through the agent, as a code (PinChangeResult): at
// once when the server answers, otherwise on the agent's next contact.
func (c *pinChangeCmd) Run(ctx context.Context, g *globals) error {
	n, err := strconv.ParseUint(c.Serial, 10, 32)
	if err != nil {
		return refuse(err, lang(), "notSerial", c.Serial)
	}
	serial := uint32(n)
	client := agent.NewClient(g.socket())
	cards, err := client.Cards(ctx)
	if err != nil {
		return refuse(err, lang(), "noAgent")
	}
	reader, policy := "", pivPIN
	for _, card := range cards {
		if card.Serial == serial {
			reader, policy = card.Reader, policyOf(card)
		}
	}
	if reader == "" {
		if dir, err := g.dataDir(); err == nil && agent.WasRemoved(dir, serial) {
			return errors.New(handoff.Words(lang(), handoff.CodeCardRevoked))
		}
		return errors.New(handoff.Words(lang(), handoff.CodeCardNotHere))
	}
	fmt.Fprintln(os.Stderr, say(lang(), "changingPIN", serial, reader))
	for _, r := range handoff.PolicyRulesIn(lang(), policy) {
		fmt.Fprintln(os.Stderr, "  -", r)
	}
	in := bufio.NewScanner(os.Stdin)
	wrong := 0 // wrong current PINs the card counted
	ask := func(ctx context.Context, problems []handoff.Problem) (handoff.PINAnswer, error) {
		for _, p := range problems {
			if p.Code == handoff.ProblemCurrentWrong || p.Code == handoff.ProblemCurrentWrongLast {
				wrong++
			}
		}
		for {
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, "  -", handoff.ProblemWords(lang(), p, policy))
			}
			a, err := c.read(in)
			if err != nil {
				return a, err
			}
			if problems = handoff.CheckPIN(handoff.PINChange, policy, a); len(problems) == 0 {
				return a, nil
			}
		}
	}
	err = handoff.ChangePIN(ctx, reader, serial, ask)
	result := pinChangeResult(err, wrong)
	// A change that never reached the card is nothing for the server to know.
	if result != api.PinChangeResultCancelled || wrong > 0 {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 40*time.Second)
		sent, rerr := client.ReportPINChange(rctx, serial, agent.PINChangeReport{Result: result, At: time.Now()})
		cancel()
		switch {
		case rerr != nil:
			fmt.Fprintln(os.Stderr, say(lang(), "notToldNow"), handoff.DescribeIn(lang(), rerr))
		case !sent:
			fmt.Fprintln(os.Stderr, say(lang(), "toldLater"))
		}
	}
	if err != nil {
		return errors.New(handoff.DescribeIn(lang(), err))
	}
	fmt.Println(say(lang(), "pinChanged", serial))
	return nil
}

// pinChangeResult is the code the server gets for a change that ended with err, after
// wrong wrong current PINs: never words, which are the portal's to choose.
func pinChangeResult(err error, wrong int) api.PinChangeResult {
	switch {
	case err == nil:
		return api.PinChangeResultChanged
	case handoff.CodeOf(err) == handoff.CodePINBlocked:
		return api.PinChangeResultPinBlocked
	case errors.Is(err, handoff.ErrCancelled), errors.Is(err, context.Canceled), errors.Is(err, io.ErrUnexpectedEOF):
		if wrong > 0 {
			return api.PinChangeResultWrongPin
		}
		return api.PinChangeResultCancelled
	default:
		return api.PinChangeResultCardError
	}
}

// read reads the current PIN and the new one: from standard input as lines, or from the
// terminal without echo, the new one twice.
func (c *pinChangeCmd) read(in *bufio.Scanner) (handoff.PINAnswer, error) {
	var a handoff.PINAnswer
	if !c.PINStdin {
		if restore := noEcho(); restore != nil {
			defer restore()
		}
	}
	var err error
	if a.Current, err = readLine(in, say(lang(), "currentPIN")); err != nil {
		return a, err
	}
	if a.New, err = readLine(in, say(lang(), "newPIN")); err != nil {
		return a, err
	}
	if c.PINStdin {
		return a, nil
	}
	again, err := readLine(in, say(lang(), "newPINAgain"))
	if err != nil {
		return a, err
	}
	if again != a.New {
		// Asked again with the mismatch's words, as the PIN page does.
		fmt.Fprintln(os.Stderr, "  -", handoff.Words(lang(), handoff.ProblemMismatch))
		return c.read(in)
	}
	return a, nil
}

// noEcho turns the terminal's echo off while a PIN is typed, and returns what turns it
// on again; nil when standard input is not a terminal.
func noEcho() func() {
	off := exec.Command("stty", "-echo")
	off.Stdin = os.Stdin
	if off.Run() != nil {
		return nil
	}
	return func() {
		on := exec.Command("stty", "echo")
		on.Stdin = os.Stdin
		_ = on.Run()
	}
}
