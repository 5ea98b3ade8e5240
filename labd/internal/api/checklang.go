package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// checkLang is the language of a step check's messages: ?lang=, else the
// body's {"lang"} (the body is optional), else Accept-Language, else zh.
func checkLang(r *http.Request) (string, error) {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
			return "", &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json"}
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<10+1))
		if err != nil {
			return "", err
		}
		if len(data) > 1<<10 {
			return "", &httpError{http.StatusRequestEntityTooLarge, "too_large", "the body of a check is at most 1024 bytes"}
		}
		if len(bytes.TrimSpace(data)) > 0 {
			var body struct {
				Lang string `json:"lang"`
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				return "", &httpError{http.StatusBadRequest, "invalid_json", `the body is not {"lang": "zh" or "en"}: ` + err.Error()}
			}
			if body.Lang == "" {
				return pageLang(r), nil
			}
			lang = body.Lang
		}
	}
	switch lang {
	case "":
		return pageLang(r), nil
	case "zh", "en":
		return lang, nil
	}
	return "", &httpError{http.StatusBadRequest, "invalid", `lang must be "zh" or "en"`}
}
