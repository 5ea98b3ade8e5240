package api

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
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

	certificate.EUnavailable: http.StatusServiceUnavailable,
	auth.EUnauthorized:       http.StatusUnauthorized,
	auth.EForbidden:          http.StatusForbidden,
	auth.EExpired:            http.StatusGone,
}

// writeError answers with {"error":{"code","message"}} and the fitting status.
// Errors without a known code are logged and answered with a plain 500, so
// internals never leak to the caller.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "something went wrong on the server"
	var he *httpError
	var le *lab.Error
	var ce *certificate.Error
	var ae *auth.Error
	switch {
	case errors.As(err, &he):
		status, code, msg = he.status, he.code, he.message
	case errors.As(err, &le) && statusOf[le.Code] != 0:
		status, code, msg = statusOf[le.Code], le.Code, le.Message
		if le.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(le.RetryAfter.Seconds()))))
		}
	case errors.As(err, &ce) && statusOf[ce.Code] != 0:
		status, code, msg = statusOf[ce.Code], ce.Code, ce.Message
	case errors.As(err, &ae) && statusOf[ae.Code] != 0:
		status, code, msg = statusOf[ae.Code], ae.Code, ae.Message
		if ae.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
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
	}
	writeJSON(w, status, map[string]body{"error": {Code: code, Message: msg}})
}
