package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// readJSON decodes a request body strictly into v: one JSON value, no
// unknown names, no name twice at any depth and names matched exactly. A
// decoder that lets the last of two "lab"s win, or takes "LAB" for "lab",
// lets a body mean one thing to a proxy or log and another to labd.
// json/v2 does all of this; encoding/json does none of the last two.
func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json"}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)}
		}
		return &httpError{http.StatusBadRequest, "invalid_json", "the body could not be read"}
	}
	return decodeJSON(body, v)
}

// decodeJSON is readJSON's decoder, on the body's bytes.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &httpError{http.StatusBadRequest, "invalid_json", "the body is empty; send a JSON object"}
	}
	if err := jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return &httpError{http.StatusBadRequest, "invalid_json", "the body is not valid JSON: " + jsonProblem(err)}
	}
	return nil
}

// jsonProblem says what is wrong in the caller's terms: where (a JSON
// pointer) and what, without Go type names.
func jsonProblem(err error) string {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &syn):
		return fmt.Sprintf("the name %q appears twice in %s", syn.JSONPointer.LastToken(), where(syn.JSONPointer.Parent()))
	case errors.As(err, &syn):
		return fmt.Sprintf("%v at byte %d", syn.Err, syn.ByteOffset)
	case errors.Is(err, jsonv2.ErrUnknownName) && errors.As(err, &sem):
		return fmt.Sprintf("unknown name %q in %s (names are case-sensitive)", sem.JSONPointer.LastToken(), where(sem.JSONPointer.Parent()))
	case errors.As(err, &sem) && sem.Err != nil:
		return fmt.Sprintf("%s: %v", where(sem.JSONPointer), sem.Err)
	case errors.As(err, &sem):
		return fmt.Sprintf("%s: a JSON %s does not belong here", where(sem.JSONPointer), kindName(sem.JSONKind))
	}
	return "malformed"
}

func where(p jsontext.Pointer) string {
	if p == "" {
		return "the body"
	}
	return string(p)
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "value"
}
