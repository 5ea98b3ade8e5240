package api

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckLang(t *testing.T) {
	for _, tc := range []struct {
		name, query, body, ctype, accept string
		want                             string
		status                           int // of the error, 0 for none
	}{
		{name: "default", want: "zh"},
		{name: "query", query: "?lang=en", want: "en"},
		{name: "query wins over the body", query: "?lang=zh", body: `{"lang":"en"}`, want: "zh"},
		{name: "body", body: `{"lang":"en"}`, ctype: "application/json", want: "en"},
		{name: "body without a type", body: `{"lang":"en"}`, want: "en"},
		{name: "empty body object, Accept-Language", body: `{}`, accept: "en-US,en;q=0.9", want: "en"},
		{name: "Accept-Language", accept: "en-GB, zh;q=0.5", want: "en"},
		{name: "Accept-Language zh", accept: "zh-CN", want: "zh"},
		{name: "unknown language", query: "?lang=fr", status: 400},
		{name: "unknown language in the body", body: `{"lang":"de"}`, status: 400},
		{name: "not JSON", body: `lang=en`, status: 400},
		{name: "unknown field", body: `{"language":"en"}`, status: 400},
		{name: "other media type", body: `lang=en`, ctype: "application/x-www-form-urlencoded", status: 415},
		{name: "too large", body: `{"lang":"` + strings.Repeat("e", 2000) + `"}`, status: 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/sessions/s/steps/one/check"+tc.query, strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			got, err := checkLang(r)
			var he *httpError
			switch {
			case tc.status != 0 && (!errors.As(err, &he) || he.status != tc.status):
				t.Errorf("error %v, want status %d", err, tc.status)
			case tc.status == 0 && (err != nil || got != tc.want):
				t.Errorf("checkLang = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
