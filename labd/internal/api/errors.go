package api

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// httpError is an error the API layer itself raises, with its status.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

// statusOf maps domain error codes to HTTP statuses: the one place where this happens.
var statusOf = map[string]int{
	lab.ENotFound: http.StatusNotFound,
	lab.EConflict: http.StatusConflict,
	lab.EInvalid:  http.StatusBadRequest,
	lab.ELimit:    http.StatusTooManyRequests,

	auth.EUnauthorized: http.StatusUnauthorized,
	auth.EForbidden:    http.StatusForbidden,
	auth.EExpired:      http.StatusGone,

	class.EInvalidRoster: http.StatusBadRequest,

	certificate.EUnavailable: http.StatusServiceUnavailable, // lab.EUnavailable is the same code

	exam.EDeadline:     http.StatusConflict,
	exam.ENoAttempts:   http.StatusConflict,
	exam.EPassed:       http.StatusConflict,
	exam.ERequirements: http.StatusConflict,
	exam.ERevoked:      http.StatusConflict, // certificate.ERevoked is the same code
}

// coded is any domain's error with a code from statusOf; the API needs
// not import the domain to map it.
type coded interface {
	error
	ErrorCode() string
}

// detailed errors add structured details to their message, such as the
// bad lines of a roster.
type detailed interface {
	ErrorDetails() any
}

// writeError answers with {"error":{"code","message"}} and the fitting status.
// Errors without a known code are logged and answered with a plain 500, so
// internals never leak to the caller.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "something went wrong on the server"
	var he *httpError
	var le *lab.Error
	var ae *auth.Error
	var ce coded
	var details any
	switch {
	case errors.As(err, &he):
		status, code, msg = he.status, he.code, he.message
	case errors.As(err, &le) && statusOf[le.Code] != 0:
		status, code, msg = statusOf[le.Code], le.Code, le.Message
		if le.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(le.RetryAfter.Seconds()))))
		}
	case errors.As(err, &ae) && statusOf[ae.Code] != 0:
		status, code, msg = statusOf[ae.Code], ae.Code, ae.Message
		if ae.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
		}
	case errors.As(err, &ce) && statusOf[ce.ErrorCode()] != 0:
		// Any other domain's coded error, such as a refused roster.
		status, code, msg = statusOf[ce.ErrorCode()], ce.ErrorCode(), ce.Error()
		if d, ok := ce.(detailed); ok {
			details = d.ErrorDetails()
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client left
	case errors.Is(err, context.DeadlineExceeded):
		status, code, msg = http.StatusGatewayTimeout, "timeout", "the operation took too long"
	default:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details,omitempty"`
	}
	writeJSON(w, status, map[string]body{"error": {Code: code, Message: clip(msg), Details: details}})
}

// Messages echo what the caller sent (an id, a name, a path); clip keeps
// each echoed word to maxWord runes and the whole message to maxMessage, so
// a 60,000-character id does not come back whole.
const (
	maxWord    = 64
	maxMessage = 500
)

func clip(msg string) string {
	if utf8.RuneCountInString(msg) <= maxWord && len(msg) <= maxWord*utf8.UTFMax {
		return msg
	}
	var b strings.Builder
	for i, word := range strings.Split(msg, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		if r := []rune(word); len(r) > maxWord {
			// Keep the head and the last rune, a closing quote most often.
			word = string(r[:maxWord-2]) + "…" + string(r[len(r)-1])
		}
		b.WriteString(word)
	}
	if r := []rune(b.String()); len(r) > maxMessage {
		return string(r[:maxMessage-1]) + "…"
	}
	return b.String()
}
