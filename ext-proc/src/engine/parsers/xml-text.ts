/**
 * The text content of an XML document (byte string): character data, CDATA sections and attribute
 * values, separated by spaces. Markup, comments and the DOCTYPE are left out (rules see those in
 * the raw `xml` target). A single linear pass; malformed markup ends the current tag at `>`.
 */
export function extractXmlText(xml: string): string {
  const pieces: string[] = [];
  let i = 0;
  while (i < xml.length) {
    const open = xml.indexOf("<", i);
    const textEnd = open < 0 ? xml.length : open;
    const text = xml.slice(i, textEnd).trim();
    if (text !== "") pieces.push(text);
    if (open < 0) break;
    if (xml.startsWith("<![CDATA[", open)) {
      const end = xml.indexOf("]]>", open + 9);
      pieces.push(xml.slice(open + 9, end < 0 ? xml.length : end));
      i = end < 0 ? xml.length : end + 3;
      continue;
    }
    if (xml.startsWith("<!--", open)) {
      const end = xml.indexOf("-->", open + 4);
      i = end < 0 ? xml.length : end + 3;
      continue;
    }
    const close = xml.indexOf(">", open + 1);
    const tag = xml.slice(open + 1, close < 0 ? xml.length : close);
    if (!tag.startsWith("!") && !tag.startsWith("?")) collectAttributeValues(tag, pieces);
    i = close < 0 ? xml.length : close + 1;
  }
  return pieces.join(" ");
}

function collectAttributeValues(tag: string, pieces: string[]): void {
  let i = tag.indexOf("=");
  while (i >= 0) {
    let j = i + 1;
    while (tag[j] === " ") j++;
    const quote = tag[j];
    if (quote === '"' || quote === "'") {
      const end = tag.indexOf(quote, j + 1);
      pieces.push(tag.slice(j + 1, end < 0 ? tag.length : end));
      i = tag.indexOf("=", end < 0 ? tag.length : end + 1);
    } else i = tag.indexOf("=", j);
  }
}
