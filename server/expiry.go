package server

import (
	"context"
	"net/http"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/options"
)

// assembleNotices sets up the expiry check and, where SMTP is configured, its e-mail.
func (s *Server) assembleNotices() error {
	cfg := s.Config
	tmpl, err := notices.LoadTemplates(cfg.NoticeTemplates)
	if err != nil {
		return err
	}
	var mailer notices.Mailer
	if cfg.SMTP.Enabled() {
		if mailer, err = notices.NewMailer(cfg.SMTP); err != nil {
			return err
		}
	} else {
		s.log.Info("no SMTP server configured (--smtp-host): cards due for renewal are open tasks on the start page, and no e-mail notice goes out")
	}
	s.Notices, err = notices.New(notices.Config{
		DB: s.DB.SQL, Dialect: s.DB.Dialect, Renewal: s.renewal, Mailer: mailer, Templates: tmpl,
		PublicURL: cfg.PublicURL, Interval: cfg.ExpiryCheckInterval, Poll: cfg.ExpiryPoll, Rate: cfg.NoticeRate,
		Now: cfg.Now, Log: s.log.With("component", "notices"),
	})
	return err
}

// renewal reads RENEWAL_WINDOW and NOTICE_DAYS from the option script in force. The check
// is the cluster's, not a person's, so the script is evaluated for the sample user: the
// values are the script's constants.
func (s *Server) renewal(ctx context.Context) (cardspec.Renewal, error) {
	u := options.Sample()
	o, _, err := s.Scripts.Evaluate(ctx, &ent.User{
		ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Roles: u.Roles, Attributes: u.Attributes,
	})
	if err != nil {
		return cardspec.Renewal{}, err
	}
	return o.Renewal, nil
}

// moveClock is POST /test/clock?advance=<Go duration>, there only with Config.TestClock
// (never in production): it moves the server's clock forward and runs the expiry check at
// once, so that an end-to-end test sees a card fall due without waiting for the schedule.
func (s *Server) moveClock(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.URL.Query().Get("advance"))
	if err != nil || d < 0 {
		errs.Write(w, errs.New(errs.InvalidInput, "advance must be a positive duration such as 720h."))
		return
	}
	s.clock.Advance(d)
	res, err := s.Notices.Tick(r.Context())
	if err != nil {
		s.log.Error("run the expiry check", "err", err)
		errs.Write(w, errs.Wrap(err, errs.Internal, "The expiry check failed."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.Config.Now(), "check": res})
}
