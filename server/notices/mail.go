package notices

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTP is how notices reach people. The zero value (no Host) sends nothing.
type SMTP struct {
	// Host and Port of the submission server (default port 587).
	Host string
	Port int
	// Username and Password authenticate (AUTH PLAIN, only ever over TLS). Empty Username:
	// no authentication, for a relay that trusts this host.
	Username string
	Password string
	// From is the sender address, e.g. "vscard <vscard@example.com>".
	From string
	// ImplicitTLS speaks TLS from the first byte (port 465) instead of STARTTLS. STARTTLS
	// is mandatory otherwise: a server that does not offer it is refused.
	ImplicitTLS bool
	// CAFile holds PEM roots to trust for the SMTP server besides the system's.
	CAFile string
	// Timeout bounds dialling and each SMTP command (default 30s).
	Timeout time.Duration
}

// Enabled reports whether notices are e-mailed at all.
func (s SMTP) Enabled() bool { return s.Host != "" }

// Message is one e-mail.
type Message struct {
	// ID becomes the Message-ID: the notice's id, so that a notice sent twice after a
	// crash is one message to the mail client.
	ID      string
	To      string
	Subject string
	Body    string
	Date    time.Time
}

// Mailer sends messages over one connection at a time.
type Mailer interface {
	// Open connects and authenticates.
	Open(ctx context.Context) (Conn, error)
}

// Conn is an open SMTP connection.
type Conn interface {
	Send(m Message) error
	Close() error
}

// smtpMailer is the Mailer of an SMTP server (github.com/wneessen/go-mail).
type smtpMailer struct {
	cfg  SMTP
	opts []mail.Option
}

// NewMailer checks cfg and returns its Mailer.
func NewMailer(cfg SMTP) (Mailer, error) {
	if cfg.From == "" {
		return nil, errors.New("set the sender of notices (--smtp-from)")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.ImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tlsCfg := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pemBytes, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read SMTP CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, errors.New("read SMTP CA file: no PEM certificates found")
		}
		tlsCfg.RootCAs = pool
	}
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithTLSConfig(tlsCfg),
		mail.WithTLSPolicy(mail.TLSMandatory),
	}
	if cfg.ImplicitTLS {
		opts = append(opts, mail.WithSSL())
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	return &smtpMailer{cfg: cfg, opts: opts}, nil
}

func (m *smtpMailer) Open(ctx context.Context) (Conn, error) {
	c, err := mail.NewClient(m.cfg.Host, m.opts...)
	if err != nil {
		return nil, fmt.Errorf("set up SMTP client: %w", err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to SMTP server %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
	}
	return &smtpConn{c: c, from: m.cfg.From}, nil
}

type smtpConn struct {
	c    *mail.Client
	from string
}

func (c *smtpConn) Send(m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(c.from); err != nil {
		return fmt.Errorf("set sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("set recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@vscard")
	msg.SetDateWithValue(m.Date)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	if err := c.c.Send(msg); err != nil {
		return fmt.Errorf("send notice: %w", err)
	}
	return nil
}

func (c *smtpConn) Close() error { return c.c.Close() }
