package errs

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	// The statuses clients and balancers act on; a change here changes the API.
	want := map[Code]int{
		Unauthenticated:       http.StatusUnauthorized,
		Forbidden:             http.StatusForbidden,
		NotFound:              http.StatusNotFound,
		InvalidInput:          http.StatusBadRequest,
		IllegalState:          http.StatusConflict,
		UserNotActive:         http.StatusForbidden,
		TokenInvalid:          http.StatusUnauthorized,
		TokenExpired:          http.StatusUnauthorized,
		TokenUsed:             http.StatusUnauthorized,
		PINPolicy:             http.StatusBadRequest,
		ScriptError:           http.StatusBadRequest,
		Conflict:              http.StatusConflict,
		RateLimited:           http.StatusTooManyRequests,
		QueryTooComplex:       http.StatusUnprocessableEntity,
		RequestTooLarge:       http.StatusRequestEntityTooLarge,
		IntrospectionDisabled: http.StatusForbidden,
		Timeout:               http.StatusServiceUnavailable,
		Unavailable:           http.StatusServiceUnavailable,
		ReasonRequired:        http.StatusBadRequest,
		Internal:              http.StatusInternalServerError,
	}
	for _, c := range Codes() {
		got := HTTPStatus(c)
		if got < 400 || got > 599 {
			t.Errorf("HTTPStatus(%s) = %d, want an error status", c, got)
		}
		w, ok := want[c]
		if !ok {
			t.Errorf("code %s has no expected status in this test: add it", c)
			continue
		}
		if got != w {
			t.Errorf("HTTPStatus(%s) = %d, want %d", c, got, w)
		}
	}
	if len(want) != len(Codes()) {
		t.Errorf("the test expects %d codes, Codes() lists %d", len(want), len(Codes()))
	}
	t.Run("error/not a code", func(t *testing.T) {
		if s := HTTPStatus("NO_SUCH_CODE"); s != 0 {
			t.Errorf("HTTPStatus of an unknown code = %d, want 0", s)
		}
		if Code("NO_SUCH_CODE").Valid() {
			t.Error("an unknown code is Valid")
		}
	})
	t.Run("ok/status of an error", func(t *testing.T) {
		wrapped := fmt.Errorf("claim order: %w", New(TokenExpired, "The link has expired."))
		if s := StatusOf(wrapped); s != http.StatusUnauthorized {
			t.Errorf("StatusOf(wrapped TOKEN_EXPIRED) = %d, want 401", s)
		}
		if s := StatusOf(errors.New("disk on fire")); s != http.StatusInternalServerError {
			t.Errorf("StatusOf(plain error) = %d, want 500", s)
		}
	})
}

func TestCodesAreDistinct(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range Codes() {
		if seen[c] {
			t.Errorf("code %s is listed twice", c)
		}
		seen[c] = true
	}
}
