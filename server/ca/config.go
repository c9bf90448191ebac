package ca

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config configures the embedded CA.
type Config struct {
	// Organization is written into the CA subjects (O=) and their common names.
	Organization string
	// BaseURL is the public URL of the server (e.g. "http://localhost:8080"). Certificates
	// point to <BaseURL>/ca/crl, <BaseURL>/ca/ocsp and <BaseURL>/ca/issuing.crt.
	BaseURL string
	// Passphrase, when set, encrypts the CA key files (scrypt + AES-256-GCM). Keys written
	// with a passphrase can only be loaded with it.
	Passphrase []byte
	// IssuingCurve is the curve of a newly created issuing CA: "P-256" (default) or "P-384".
	IssuingCurve string
	// RootValidity and IssuingValidity apply when the CA is created (default 20 and 10 years).
	RootValidity    time.Duration
	IssuingValidity time.Duration
	// CRLValidity is the time between a CRL's thisUpdate and nextUpdate (default 24 hours).
	CRLValidity time.Duration
	// CRLMaxAge is how long a CRL is served from this instance's memory before it asks
	// the store whether another instance stored a newer one (default 10 s). A revocation
	// on this instance, or on another one when the CA follows the event bus (CA.Follow),
	// makes it ask at once; without the bus, one made by another instance on the same
	// database shows after at most this long.
	CRLMaxAge time.Duration
	// OCSPValidity is the time between an OCSP response's thisUpdate and nextUpdate
	// (default 1 hour).
	OCSPValidity time.Duration
	// OCSPCacheSize bounds how many certificates' pre-produced OCSP responses each
	// instance keeps in memory once it follows a bus (default 100,000). A response with
	// its headers and index entry takes about 1 KB, so the default is ~100 MB at most,
	// and a quarter as much again for serials the CA never issued.
	OCSPCacheSize int
	// Logger receives internal errors of the HTTP endpoints. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock; tests set it. Default: time.Now.
	Now func() time.Time
}

const (
	defaultRootValidity    = 20 * 365 * 24 * time.Hour
	defaultIssuingValidity = 10 * 365 * 24 * time.Hour
	defaultCRLValidity     = 24 * time.Hour
	defaultOCSPValidity    = time.Hour
	defaultOCSPCacheSize   = 100_000
)

// withDefaults checks cfg and fills in the defaults.
func (cfg Config) withDefaults() (Config, error) {
	if strings.TrimSpace(cfg.Organization) == "" {
		return cfg, fmt.Errorf("check config: Organization is required (it names the CA)")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("check config: BaseURL %q must be an absolute http(s) URL such as http://localhost:8080", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	switch cfg.IssuingCurve {
	case "":
		cfg.IssuingCurve = "P-256"
	case "P-256", "P-384":
	default:
		return cfg, fmt.Errorf("check config: IssuingCurve %q is not supported; use P-256 or P-384", cfg.IssuingCurve)
	}
	if cfg.RootValidity <= 0 {
		cfg.RootValidity = defaultRootValidity
	}
	if cfg.IssuingValidity <= 0 {
		cfg.IssuingValidity = defaultIssuingValidity
	}
	if cfg.CRLValidity <= 0 {
		cfg.CRLValidity = defaultCRLValidity
	}
	if cfg.OCSPValidity <= 0 {
		cfg.OCSPValidity = defaultOCSPValidity
	}
	if cfg.OCSPCacheSize <= 0 {
		cfg.OCSPCacheSize = defaultOCSPCacheSize
	}
	if cfg.CRLMaxAge <= 0 {
		cfg.CRLMaxAge = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

func (cfg Config) crlURL() string { return cfg.BaseURL + "/ca/crl" }
func (cfg Config) crlPartitionURL(p int) string {
	return cfg.BaseURL + "/ca/crl/" + strconv.FormatInt(int64(p), 16)
}
func (cfg Config) ocspURL() string   { return cfg.BaseURL + "/ca/ocsp" }
func (cfg Config) issuerURL() string { return cfg.BaseURL + "/ca/issuing.crt" }
