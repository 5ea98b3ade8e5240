package certificate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
)

// The PDF's fonts, TrueType from Debian packages: fpdf reads TrueType
// outlines only (OpenType/CFF and TTC fonts such as Noto CJK or WenQuanYi do
// not load). Chinese runs are set in AR PL SungtiL GB, whose Latin glyphs are
// monospaced, so Latin runs are set in Liberation Serif beside it.
const (
	DefaultFont      = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"            // fonts-arphic-gbsn00lp
	DefaultLatin     = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf" // fonts-liberation2
	DefaultLatinBold = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"    // fonts-liberation2
)

// EUnavailable says a part the server needs (a PDF font) is missing.
const EUnavailable = "unavailable"

// PDF renders certificates as printable bilingual PDFs.
type PDF struct {
	FontPath      string // the CJK font; DefaultFont when empty
	LatinPath     string // DefaultLatin when empty
	LatinBoldPath string // DefaultLatinBold when empty

	mu    sync.Mutex
	fonts *pdfFonts
}

type pdfFonts struct{ cjk, latin, latinBold []byte }

func orDefault(path, def string) string {
	if path == "" {
		return def
	}
	return path
}

// Fonts loads the fonts, or says which is missing and which package has it.
func (p *PDF) Fonts() error {
	_, err := p.loadFonts()
	return err
}

func (p *PDF) loadFonts() (*pdfFonts, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fonts != nil {
		return p.fonts, nil
	}
	var f pdfFonts
	for _, font := range []struct {
		dst       *[]byte
		path, pkg string
	}{
		{&f.cjk, orDefault(p.FontPath, DefaultFont), "fonts-arphic-gbsn00lp"},
		{&f.latin, orDefault(p.LatinPath, DefaultLatin), "fonts-liberation2"},
		{&f.latinBold, orDefault(p.LatinBoldPath, DefaultLatinBold), "fonts-liberation2"},
	} {
		b, err := os.ReadFile(font.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errorf(EUnavailable, "certificate PDFs need the font %s, which is missing (Debian: apt-get install %s, or make deps)", font.path, font.pkg)
		}
		if err != nil {
			return nil, fmt.Errorf("pdf font: %w", err)
		}
		if len(b) < 4 || string(b[:4]) != "\x00\x01\x00\x00" && string(b[:4]) != "true" {
			return nil, errorf(EUnavailable, "certificate PDFs need a TrueType font; %s is not one", font.path)
		}
		*font.dst = b
	}
	p.fonts = &f
	return p.fonts, nil
}

var statusStamp = map[Status]Text{
	Expired:    {ZH: "已过期", EN: "EXPIRED"},
	Revoked:    {ZH: "已吊销", EN: "REVOKED"},
	Superseded: {ZH: "已被取代", EN: "SUPERSEDED"},
}

// run is a piece of a line set in one face.
type run struct {
	cjk  bool
	text string
}

// isCJK reports whether r is set in the CJK face: Han, kana, Hangul, CJK
// punctuation and full-width forms.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef || r >= 0x2e80 && r <= 0x2fdf
}

// runs splits s into runs of one face each. Spaces stay with the run before
// them, so a line's runs join without gaps or doubled spaces.
func runs(s string) []run {
	var out []run
	for _, r := range s {
		c := isCJK(r)
		if n := len(out); n > 0 && (out[n-1].cjk == c || r == ' ') {
			out[n-1].text += string(r)
			continue
		}
		out = append(out, run{cjk: c, text: string(r)})
	}
	return out
}

// page draws text on an fpdf page, a face per run.
type page struct {
	*fpdf.Fpdf
}

const (
	cjkFace   = "sungtil"
	latinFace = "liberationserif"
)

// face sets the run's face. The CJK font has no bold: a bold CJK run is
// filled and stroked in its own colour instead.
func (p page) face(r run, size float64, bold bool) {
	p.SetTextRenderingMode(0)
	switch {
	case r.cjk && bold:
		p.SetFont(cjkFace, "", size)
		p.SetTextRenderingMode(2)
		p.SetDrawColor(p.GetTextColor())
		p.SetLineWidth(size * 0.012)
	case r.cjk:
		p.SetFont(cjkFace, "", size)
	case bold:
		p.SetFont(latinFace, "B", size)
	default:
		p.SetFont(latinFace, "", size)
	}
}

func (p page) width(text string, size float64, bold bool) float64 {
	w := 0.0
	for _, r := range runs(text) {
		p.face(r, size, bold)
		w += p.GetStringWidth(r.text)
	}
	return w
}

// text writes text at x, y (the top of a line of height h) starting there
// (align "L") or centered on x ("C"); link, when given, links every run.
func (p page) text(x, y, h, size float64, align, text string, bold bool, link string) {
	if align == "C" {
		x -= p.width(text, size, bold) / 2
	}
	p.SetXY(x, y)
	for _, r := range runs(text) {
		p.face(r, size, bold)
		p.CellFormat(p.GetStringWidth(r.text), h, r.text, "", 0, "L", false, 0, link)
	}
	p.SetTextRenderingMode(0)
}

// Render returns c as an A4 landscape PDF in Chinese and English, with a QR
// code of its verify page. status is stamped on it, large, when not valid.
func (p *PDF) Render(c *Certificate, is Issuer, status Status) ([]byte, error) {
	fonts, err := p.loadFonts()
	if err != nil {
		return nil, err
	}
	cred, err := c.Credential()
	if err != nil {
		return nil, err
	}
	verify := is.VerifyURL(c.Code)
	qr, err := qrcode.Encode(verify, qrcode.Medium, 512)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	ach := cred.CredentialSubject.Achievement
	zh := ach.Translations.zh()

	doc := fpdf.New("L", "mm", "A4", "")
	doc.SetCreationDate(c.Issued)
	doc.SetModificationDate(c.Issued)
	doc.SetTitle(ach.Name+" — "+c.HolderName, true)
	doc.SetAuthor(is.Name, true)
	doc.SetCreator("XSKY Academy labd", true)
	doc.SetLang("zh-CN")
	doc.AddUTF8FontFromBytes(cjkFace, "", fonts.cjk)
	doc.AddUTF8FontFromBytes(latinFace, "", fonts.latin)
	doc.AddUTF8FontFromBytes(latinFace, "B", fonts.latinBold)
	doc.SetMargins(20, 18, 20)
	doc.SetAutoPageBreak(false, 0)
	doc.AddPage()
	pg := page{doc}
	w, h := doc.GetPageSize()

	// A frame.
	doc.SetDrawColor(24, 70, 140)
	doc.SetLineWidth(1.2)
	doc.Rect(8, 8, w-16, h-16, "D")
	doc.SetLineWidth(0.3)
	doc.Rect(11, 11, w-22, h-22, "D")

	center := func(y, size float64, text string, bold bool, r, g, b int) {
		doc.SetTextColor(r, g, b)
		pg.text(w/2, y, size*0.5, size, "C", text, bold, "")
	}
	issuer := is.Name
	if n := is.NameIn("zh"); n != is.Name {
		issuer = n + "  " + is.Name
	}
	center(22, 13, issuer, true, 24, 70, 140)
	center(34, 26, "认证证书  Certificate", true, 20, 20, 20)
	center(50, 12, "兹证明  This certifies that", false, 70, 70, 70)
	center(60, 24, c.HolderName, true, 0, 0, 0)
	center(76, 12, "已通过认证  has earned the certification", false, 70, 70, 70)
	center(86, 18, zh.Name, false, 24, 70, 140)
	center(96, 16, ach.Name, true, 24, 70, 140)

	y := 110.0
	for _, r := range cred.Results() {
		line := fmt.Sprintf("%s  %s:  %s%%  (及格线  pass mark %s%%)", r.Name.ZH, r.Name.EN, score(r.Score), score(r.PassMark))
		center(y, 10.5, line, false, 60, 60, 60)
		y += 6
	}
	doc.SetTextColor(40, 40, 40)
	left := 24.0
	row := func(y float64, label, value string) {
		pg.text(left, y, 6, 10, "L", label, false, "")
		pg.text(left+58, y, 6, 10, "L", value, true, "")
	}
	row(h-58, "颁发日期  Issued", c.Issued.UTC().Format(time.DateOnly))
	if !c.Expires.IsZero() {
		row(h-51, "有效期至  Valid until", c.Expires.UTC().Format(time.DateOnly))
	} else {
		row(h-51, "有效期至  Valid until", "长期有效  No expiry")
	}
	row(h-44, "验证码  Verification code", Group(c.Code))
	row(h-37, "颁发机构  Issuer", issuer+"  "+is.URL)
	pg.text(left, h-28, 5, 8.5, "L", "扫描二维码或访问以下网址验证  Scan the QR code or open this address to verify:", false, "")
	doc.SetTextColor(24, 70, 140)
	pg.text(left, h-23, 5, 9, "L", verify, false, verify)

	doc.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qr))
	doc.ImageOptions("qr", w-72, h-74, 50, 50, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, verify)

	if stamp, ok := statusStamp[status]; ok {
		p.stamp(pg, stamp, c, w, h)
	}
	var buf bytes.Buffer
	if err := doc.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// stamp draws the status across the middle of the page, large and red, on
// a veil that fades what it covers, with the date (and for a revocation,
// the reason) beneath. It is level, so text extraction and screen readers
// find it like the rest of the page.
func (p *PDF) stamp(pg page, stamp Text, c *Certificate, w, h float64) {
	// Between the holder's name and the results; the note gets a row of its
	// own (under the program's name) so extracted text does not mix it in.
	const bw, bh = 196.0, 42.0
	x, y := (w-bw)/2, 73.0
	note := ""
	if !c.Revoked.IsZero() {
		note = c.Revoked.UTC().Format(time.DateOnly)
		if c.RevokeReason != "" {
			note += "  " + c.RevokeReason
		}
		if r := []rune(note); len(r) > 80 {
			note = string(r[:79]) + "…"
		}
	} else if !c.Expires.IsZero() {
		note = c.Expires.UTC().Format(time.DateOnly)
	}
	pg.SetAlpha(0.72, "Normal")
	pg.SetFillColor(255, 255, 255)
	pg.RoundedRect(x, y, bw, bh, 4, "1234", "F")
	pg.SetAlpha(1, "Normal")
	pg.SetDrawColor(190, 20, 20)
	pg.SetTextColor(190, 20, 20)
	pg.SetLineWidth(2.4)
	pg.RoundedRect(x, y, bw, bh, 4, "1234", "D")
	pg.SetLineWidth(0.7)
	pg.RoundedRect(x+3.5, y+3.5, bw-7, bh-7, 2.5, "1234", "D")
	pg.text(w/2, y+4, 22, 46, "C", stamp.ZH+"  "+stamp.EN, true, "")
	if note != "" {
		pg.text(w/2, y+bh-13.5, 8, 13, "C", note, false, "")
	}
}
