package certificate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
)

// DefaultFont is a TrueType font covering Chinese and Latin (Debian's
// fonts-arphic-gbsn00lp). fpdf reads TrueType outlines only: OpenType/CFF
// and TTC fonts (Noto CJK, WenQuanYi) do not load.
const DefaultFont = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"

// EUnavailable says a part the server needs (the PDF font) is missing.
const EUnavailable = "unavailable"

// PDF renders certificates as printable bilingual PDFs.
type PDF struct {
	FontPath string // DefaultFont when empty

	mu   sync.Mutex
	font []byte
}

func (p *PDF) loadFont() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.font != nil {
		return p.font, nil
	}
	path := p.FontPath
	if path == "" {
		path = DefaultFont
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(EUnavailable, "certificate PDFs need the font %s, which is missing (Debian: apt-get install fonts-arphic-gbsn00lp, or make deps)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("pdf font: %w", err)
	}
	if len(b) < 4 || string(b[:4]) != "\x00\x01\x00\x00" && string(b[:4]) != "true" {
		return nil, errorf(EUnavailable, "certificate PDFs need a TrueType font; %s is not one", path)
	}
	p.font = b
	return b, nil
}

var statusStamp = map[Status]Text{
	Expired:    {ZH: "已过期", EN: "EXPIRED"},
	Revoked:    {ZH: "已吊销", EN: "REVOKED"},
	Superseded: {ZH: "已被新证书取代", EN: "SUPERSEDED"},
}

// Render returns c as an A4 landscape PDF in Chinese and English, with a QR
// code of its verify page. status is stamped on it when not valid.
func (p *PDF) Render(c *Certificate, is Issuer, status Status) ([]byte, error) {
	font, err := p.loadFont()
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

	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCreationDate(c.Issued)
	pdf.SetModificationDate(c.Issued)
	pdf.SetTitle(ach.Name+" — "+c.HolderName, true)
	pdf.SetAuthor(is.Name, true)
	pdf.SetCreator("XSKY Academy labd", true)
	pdf.SetLang("zh-CN")
	pdf.AddUTF8FontFromBytes("cjk", "", font)
	pdf.SetMargins(20, 18, 20)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()
	w, h := pdf.GetPageSize()

	// A frame.
	pdf.SetDrawColor(24, 70, 140)
	pdf.SetLineWidth(1.2)
	pdf.Rect(8, 8, w-16, h-16, "D")
	pdf.SetLineWidth(0.3)
	pdf.Rect(11, 11, w-22, h-22, "D")

	center := func(y, size float64, text string, r, g, b int) {
		pdf.SetFont("cjk", "", size)
		pdf.SetTextColor(r, g, b)
		pdf.SetXY(20, y)
		pdf.CellFormat(w-40, size*0.5, text, "", 0, "C", false, 0, "")
	}
	center(22, 13, is.Name, 24, 70, 140)
	center(34, 26, "认证证书  Certificate", 20, 20, 20)
	center(50, 12, "兹证明  This certifies that", 70, 70, 70)
	center(60, 24, c.HolderName, 0, 0, 0)
	center(76, 12, "已通过认证  has earned the certification", 70, 70, 70)
	center(86, 18, zh.Name, 24, 70, 140)
	center(96, 16, ach.Name, 24, 70, 140)

	y := 110.0
	for _, r := range cred.Results() {
		line := fmt.Sprintf("%s  %s:  %s%%  (及格 pass %s%%)", r.Name.ZH, r.Name.EN, score(r.Score), score(r.PassMark))
		center(y, 10, line, 60, 60, 60)
		y += 6
	}
	pdf.SetFont("cjk", "", 10)
	pdf.SetTextColor(40, 40, 40)
	left := 24.0
	row := func(y float64, label, value string) {
		pdf.SetXY(left, y)
		pdf.CellFormat(60, 6, label, "", 0, "L", false, 0, "")
		pdf.CellFormat(120, 6, value, "", 0, "L", false, 0, "")
	}
	row(h-58, "颁发日期 Issued", c.Issued.UTC().Format(time.DateOnly))
	if !c.Expires.IsZero() {
		row(h-51, "有效期至 Valid until", c.Expires.UTC().Format(time.DateOnly))
	} else {
		row(h-51, "有效期至 Valid until", "长期有效 No expiry")
	}
	row(h-44, "验证码 Verification code", Group(c.Code))
	row(h-37, "颁发机构 Issuer", is.Name+"  "+is.URL)
	pdf.SetFont("cjk", "", 8)
	pdf.SetXY(left, h-28)
	pdf.CellFormat(180, 5, "扫描二维码或访问以下网址验证  Scan the QR code or open this address to verify:", "", 0, "L", false, 0, "")
	pdf.SetXY(left, h-23)
	pdf.SetTextColor(24, 70, 140)
	pdf.CellFormat(180, 5, verify, "", 0, "L", false, 0, verify)

	pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qr))
	pdf.ImageOptions("qr", w-72, h-74, 50, 50, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, verify)

	if stamp, ok := statusStamp[status]; ok {
		pdf.SetTextColor(190, 20, 20)
		pdf.SetDrawColor(190, 20, 20)
		pdf.SetLineWidth(0.8)
		pdf.SetFont("cjk", "", 14)
		pdf.SetXY(w-90, 16)
		pdf.CellFormat(72, 11, stamp.ZH+"  "+stamp.EN, "1", 0, "C", false, 0, "")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}
