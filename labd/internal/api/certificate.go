package api

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// certificateView is a certificate as the API shows it: its public facts
// and status, never the user id.
type certificateView struct {
	Code         string                 `json:"code"`
	ID           string                 `json:"id"`
	Status       certificate.Status     `json:"status"`
	Program      programView            `json:"program"`
	Criteria     certificate.Text       `json:"criteria"` // how it was earned, the credential's narrative
	Holder       string                 `json:"holder"`
	IssuedAt     time.Time              `json:"issued_at"`
	ExpiresAt    *time.Time             `json:"expires_at"`
	Issuer       issuerView             `json:"issuer"`
	Results      []certificate.Result   `json:"results"`
	Evidence     []certificate.Evidence `json:"evidence"`
	RevokedAt    *time.Time             `json:"revoked_at,omitempty"`
	RevokeReason string                 `json:"revoke_reason,omitempty"`
	Supersedes   string                 `json:"supersedes,omitempty"`
	SupersededBy string                 `json:"superseded_by,omitempty"`
	ReissueOf    string                 `json:"reissue_of,omitempty"` // the revoked certificate an admin issued this one again for
	VerifyURL    string                 `json:"verify_url"`
	JWTURL       string                 `json:"jwt_url"`
	PDFURL       string                 `json:"pdf_url"`
	LinkedInURL  string                 `json:"linkedin_url,omitempty"`
}

type programView struct {
	ID   string           `json:"id"`
	Name certificate.Text `json:"name"`
}

type issuerView struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

func (s *Server) certificateView(c *certificate.Certificate, lang string) (*certificateView, error) {
	cred, err := c.Credential()
	if err != nil {
		return nil, err
	}
	is := s.Certificates.Issuer()
	verify := is.VerifyURL(c.Code)
	v := &certificateView{
		Code: certificate.Group(c.Code), ID: c.ID, Status: s.Certificates.Status(c),
		Program: programView{ID: c.Program, Name: c.ProgramName}, Holder: c.HolderName, IssuedAt: c.Issued,
		Criteria: cred.AchievementCriteria(),
		Issuer:   issuerView{Name: is.NameIn(lang), URL: is.URL}, Results: cred.Results(), Evidence: []certificate.Evidence{},
		RevokeReason: c.RevokeReason, Supersedes: group(c.Supersedes), SupersededBy: group(c.SupersededBy), ReissueOf: group(c.ReissueOf),
		VerifyURL: verify, JWTURL: verify + ".jwt", PDFURL: verify + ".pdf",
	}
	if v.Results == nil {
		v.Results = []certificate.Result{}
	}
	for _, e := range cred.Evidence {
		v.Evidence = append(v.Evidence, certificate.Evidence{Name: e.Text(), URL: e.ID})
	}
	if !c.Expires.IsZero() {
		v.ExpiresAt = &c.Expires
	}
	if !c.Revoked.IsZero() {
		v.RevokedAt = &c.Revoked
	}
	if v.Status == certificate.Valid {
		v.LinkedInURL = linkedInURL(c, is, lang)
	}
	return v, nil
}

func group(code string) string {
	if code == "" {
		return ""
	}
	return certificate.Group(code)
}

// linkedInURL is LinkedIn's add-to-profile link, prefilled with the certificate.
func linkedInURL(c *certificate.Certificate, is certificate.Issuer, lang string) string {
	q := url.Values{}
	q.Set("startTask", "CERTIFICATION_NAME")
	q.Set("name", c.ProgramName.In(lang))
	q.Set("organizationName", is.Name)
	q.Set("issueYear", strconv.Itoa(c.Issued.Year()))
	q.Set("issueMonth", strconv.Itoa(int(c.Issued.Month())))
	if !c.Expires.IsZero() {
		q.Set("expirationYear", strconv.Itoa(c.Expires.Year()))
		q.Set("expirationMonth", strconv.Itoa(int(c.Expires.Month())))
	}
	q.Set("certUrl", is.VerifyURL(c.Code))
	q.Set("certId", certificate.Group(c.Code))
	return "https://www.linkedin.com/profile/add?" + q.Encode()
}

// getCertificate is the public JSON status of a certificate.
func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Certificates.Certificate(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	v, err := s.certificateView(c, pageLang(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) myCertificates(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.FromContext(r.Context())
	list, err := s.Certificates.ForUser(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := []*certificateView{}
	for _, c := range list {
		v, err := s.certificateView(c, pageLang(r))
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeCertificate(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	c, err := s.Certificates.Revoke(r.Context(), r.PathValue("code"), body.Reason)
	if err != nil {
		return err
	}
	s.Log.Info("certificate revoked", "code", certificate.Group(c.Code), "by", actor(r).User)
	v, err := s.certificateView(c, "en")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) renewCertificate(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Certificates.Renew(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	s.Log.Info("certificate renewed", "code", certificate.Group(c.Code), "supersedes", certificate.Group(c.Supersedes), "by", actor(r).User)
	v, err := s.certificateView(c, "en")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

// reissueCertificate is an admin's deliberate decision to issue again a
// revoked certificate (its holder's newest of the program): a new one with
// the same results, logged with the admin and the reason.
func (s *Server) reissueCertificate(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	c, err := s.Certificates.Reissue(r.Context(), r.PathValue("code"), body.Reason)
	if err != nil {
		return err
	}
	s.Log.Info("certificate reissued", "code", certificate.Group(c.Code), "reissue_of", certificate.Group(c.ReissueOf),
		"reason", c.ReissueReason, "by", actor(r).User)
	v, err := s.certificateView(c, "en")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

//go:embed templates/favicon.svg
var favicon []byte

// verifyIcon is the verify page's icon, the site's own (templates/favicon.svg).
func (s *Server) verifyIcon(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(favicon)
	return err
}

// jwks publishes every certificate key, retired ones included.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	set, err := s.Certificates.Keys().JWKS()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return writeBody(w, set)
}

// jwtVCIssuer is the issuer metadata through which verifiers find the keys
// of a vc+jwt issuer from its id (SD-JWT VC's /.well-known/jwt-vc-issuer).
func (s *Server) jwtVCIssuer(w http.ResponseWriter, r *http.Request) error {
	is := s.Certificates.Issuer()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return writeBody(w, map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/.well-known/jwks.json"})
}

// statusList serves a signed revocation list, cacheable for its ttl.
func (s *Server) statusList(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return &httpError{http.StatusNotFound, "not_found", "no such status list"}
	}
	tok, err := s.Certificates.StatusList(r.Context(), n)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vc+jwt")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(certificate.ListTTL.Seconds())))
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, err = w.Write([]byte(tok))
	return err
}

func writeBody(w http.ResponseWriter, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// verify serves /v/{code} (the page), /v/{code}.jwt and /v/{code}.pdf.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("code")
	switch {
	case strings.HasSuffix(name, ".jwt"):
		c, err := s.Certificates.Certificate(r.Context(), strings.TrimSuffix(name, ".jwt"))
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/jwt")
		w.Header().Set("Content-Disposition", `inline; filename="`+certificate.Group(c.Code)+`.jwt"`)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, err = w.Write([]byte(c.JWT))
		return err
	case strings.HasSuffix(name, ".pdf"):
		c, err := s.Certificates.Certificate(r.Context(), strings.TrimSuffix(name, ".pdf"))
		if err != nil {
			return err
		}
		b, err := s.PDF.Render(c, s.Certificates.Issuer(), s.Certificates.Status(c))
		if err != nil {
			if certificate.ErrorCodeOf(err) == certificate.EUnavailable {
				s.Log.Error("certificate PDF", "err", err)
			}
			return err
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="`+certificate.Group(c.Code)+`.pdf"`)
		w.Header().Set("Cache-Control", "no-cache")
		_, err = w.Write(b)
		return err
	}
	return s.verifyPage(w, r, name)
}

//go:embed templates/verify.html
var templateFS embed.FS

var verifyTemplate = template.Must(template.New("verify.html").Funcs(template.FuncMap{
	"date": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			return t.UTC().Format(time.DateOnly)
		case *time.Time:
			if t != nil {
				return t.UTC().Format(time.DateOnly)
			}
		}
		return ""
	},
	"in": func(t certificate.Text, lang string) string { return t.In(lang) },
}).ParseFS(templateFS, "templates/verify.html"))

// verifyPage is the public, bilingual verify page: no script, no login.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request, code string) error {
	lang := pageLang(r)
	data := struct {
		Lang, Other, Path string
		T                 map[string]string
		C                 *certificateView
		Issuer            issuerView
	}{Lang: lang, Other: map[string]string{"zh": "en", "en": "zh"}[lang], Path: r.URL.Path, T: pageText[lang],
		Issuer: issuerView{Name: s.Certificates.Issuer().NameIn(lang), URL: s.Certificates.Issuer().URL}}
	status := http.StatusOK
	c, err := s.Certificates.Certificate(r.Context(), code)
	switch {
	case certificate.ErrorCodeOf(err) == certificate.ENotFound:
		status = http.StatusNotFound
	case err != nil:
		return err
	default:
		if data.C, err = s.certificateView(c, lang); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := verifyTemplate.Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", map[string]string{"zh": "zh-CN", "en": "en"}[lang])
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Language")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// pageLang picks zh or en: ?lang= first, then Accept-Language, else zh.
func pageLang(r *http.Request) string {
	switch r.URL.Query().Get("lang") {
	case "zh":
		return "zh"
	case "en":
		return "en"
	}
	type pref struct {
		lang string
		q    float64
	}
	var prefs []pref
	for i, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (primary == "zh" || primary == "en") && q > 0 {
			prefs = append(prefs, pref{primary, q - float64(i)*1e-6}) // ties keep their order
		}
	}
	sort.SliceStable(prefs, func(a, b int) bool { return prefs[a].q > prefs[b].q })
	if len(prefs) > 0 {
		return prefs[0].lang
	}
	return "zh"
}

var pageText = map[string]map[string]string{
	"zh": {
		"title": "证书验证", "switch": "English", "holder": "持有人", "program": "认证项目", "issued": "颁发日期",
		"expires": "有效期至", "noExpiry": "长期有效", "issuer": "颁发机构", "code": "验证码", "results": "成绩",
		"result": "项目", "score": "得分", "pass": "及格线", "evidence": "证明材料", "downloads": "下载与分享",
		"pdf": "PDF 证书", "jwt": "可验证凭证（JWT，Open Badges 3.0）", "linkedin": "添加到领英档案",
		"valid": "有效：此证书真实有效。", "expired": "已过期：此证书真实，但已于 %s 过期。",
		"revoked": "已吊销：此证书已被颁发机构吊销。", "reason": "原因：%s（%s）", "superseded": "已被取代：此证书已续期，请查看新证书：",
		"reissued": "此证书为重新颁发，替代已吊销的证书", "criteria": "认证要求",
		"notFound": "未找到证书", "notFoundText": "没有与此验证码对应的证书。请核对验证码（格式如 ABCD-EFGH-IJKL-MNOP）。",
		"verifiers": "验证者可用颁发机构公布的公钥离线核验签名：", "keys": "公钥（JWKS）", "home": "返回首页",
	},
	"en": {
		"title": "Certificate verification", "switch": "中文", "holder": "Holder", "program": "Certification", "issued": "Issued",
		"expires": "Valid until", "noExpiry": "No expiry", "issuer": "Issuer", "code": "Verification code", "results": "Results",
		"result": "Part", "score": "Score", "pass": "Pass mark", "evidence": "Evidence", "downloads": "Download and share",
		"pdf": "PDF certificate", "jwt": "Verifiable credential (JWT, Open Badges 3.0)", "linkedin": "Add to LinkedIn profile",
		"valid": "Valid: this certificate is authentic and current.", "expired": "Expired: this certificate is authentic but expired on %s.",
		"revoked": "Revoked: the issuer has revoked this certificate.", "reason": "Reason: %s (%s)", "superseded": "Superseded: this certificate was renewed; see the new certificate: ",
		"reissued": "Reissued in place of the revoked certificate", "criteria": "Criteria",
		"notFound": "Certificate not found", "notFoundText": "No certificate has this verification code. Check the code (it looks like ABCD-EFGH-IJKL-MNOP).",
		"verifiers": "Verifiers can check the signature offline with the issuer's published keys:", "keys": "public keys (JWKS)", "home": "Home",
	},
}

// verifyForm answers the site's verify form (GET /v/?code=X, as a browser
// without JavaScript sends it) with the certificate's page.
func (s *Server) verifyForm(w http.ResponseWriter, r *http.Request) error {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	if code == "" {
		http.Redirect(w, r, "/"+pageLang(r)+"/verify/", http.StatusSeeOther)
		return nil
	}
	target := "/v/" + url.PathEscape(code)
	if l := r.URL.Query().Get("lang"); l == "zh" || l == "en" {
		target += "?lang=" + l
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}
