package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// Client talks to a running agent over its control socket.
type Client struct {
	hc *http.Client
}

// NewClient returns a client of the agent listening on the Unix socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Client{hc: &http.Client{Transport: tr}}
}

// Status asks the agent how it is; an error means no agent answers.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.do(ctx, http.MethodGet, "/v1/status", nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Cards lists the agent's cards.
func (c *Client) Cards(ctx context.Context) ([]CardInfo, error) {
	var cards []CardInfo
	if err := c.do(ctx, http.MethodGet, "/v1/cards", nil, &cards); err != nil {
		return nil, err
	}
	return cards, nil
}

// DeleteCard removes a card from its reader and deletes it.
func (c *Client) DeleteCard(ctx context.Context, serial uint32) error {
	return c.do(ctx, http.MethodDelete, "/v1/cards/"+strconv.FormatUint(uint64(serial), 10), nil, nil)
}

// ReportPINChange hands the result of a PIN change to the agent, which sends it to the
// card's server now if it can and otherwise on the next contact; it reports which.
func (c *Client) ReportPINChange(ctx context.Context, serial uint32, r PINChangeReport) (sent bool, err error) {
	var out PINChangeQueued
	err = c.do(ctx, http.MethodPost, "/v1/cards/"+strconv.FormatUint(uint64(serial), 10)+"/pin-changes", r, &out)
	return out.Sent, err
}

// SendPIN answers a ClientPIN enrolment's PIN prompt.
func (c *Client) SendPIN(ctx context.Context, id string, a handoff.PINAnswer) error {
	return c.do(ctx, http.MethodPost, "/v1/enrolments/"+id+"/pin", pinBody{PIN: a.New, Current: a.Current}, nil)
}

// CancelEnrolment cancels a running enrolment.
func (c *Client) CancelEnrolment(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/enrolments/"+id+"/cancel", nil, nil)
}

// Enrol starts an enrolment and calls fn with each message of its stream until the
// enrolment ends (nil), fn returns false (nil; the enrolment goes on), or ctx ends.
func (c *Client) Enrol(ctx context.Context, req EnrolRequest, fn func(Message) bool) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode enrolment request: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent/v1/enrolments", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("start enrolment: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(r)
	if err != nil {
		return fmt.Errorf("start enrolment: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("start enrolment: %w", readError(resp))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("read enrolment: %w", err)
		}
		if !fn(m) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read enrolment: %w", err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctx, method, "http://agent"+path, body)
	if err != nil {
		return fmt.Errorf("call agent: %w", err)
	}
	if in != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(r)
	if err != nil {
		return fmt.Errorf("call agent: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode agent answer: %w", err)
	}
	return nil
}

// AgentError is an error the agent answered with.
type AgentError struct {
	Status  int
	Message string
}

func (e *AgentError) Error() string { return e.Message }

// IsNotFound reports whether err is the agent's "not found" (no such card or
// enrolment).
func IsNotFound(err error) bool {
	var ae *AgentError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func readError(resp *http.Response) error {
	var body struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if json.Unmarshal(b, &body) != nil || body.Error == "" {
		body.Error = fmt.Sprintf("agent answered %s", resp.Status)
	}
	return &AgentError{Status: resp.StatusCode, Message: body.Error}
}
