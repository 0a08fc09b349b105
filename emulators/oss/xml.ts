/**
 * Just enough XML writing for OSS answers. Built by hand (no dependency):
 * every text node goes through `escapeXml`, so keys with `&`, `<` or quotes
 * come out as well-formed XML.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** A child is a text element `[name, text]` or a nested element `[name, children]`. */
export type XmlNode = [name: string, content: string | number | boolean | XmlNode[]];

export function renderXml(root: string, children: XmlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderNode([root, children])}\n`;
}

function renderNode([name, content]: XmlNode): string {
  const inner = Array.isArray(content) ? content.map(renderNode).join('') : escapeXml(String(content));
  return `<${name}>${inner}</${name}>`;
}
