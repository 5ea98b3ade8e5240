// missing.js: labd's `missing` lists ({kind: lab|exam|certificate, id,
// title: {zh, en}}) in the page's language, one wording for every page
// (the exam page, the me page, the lecturer console's bulk issuance).
const words = {
  zh: { lab: (t) => `实验「${t}」`, exam: () => "认证考试", certificate: (t) => `证书「${t}」`, sep: "、" },
  en: { lab: (t) => `the lab “${t}”`, exam: () => "the exam", certificate: (t) => `the certificate “${t}”`, sep: ", " },
};

// missingItem words one requirement.
export function missingItem(m, lang) {
  const w = words[lang] || words.en;
  const title = (m.title && (m.title[lang] || m.title.en)) || m.id;
  return (w[m.kind] || ((t) => t))(title);
}

// missingText words a list of them.
export function missingText(list, lang) {
  const w = words[lang] || words.en;
  return (list || []).map((m) => missingItem(m, lang)).join(w.sep);
}
