import { describe, expect, it } from "vitest";
import { extractXmlText } from "./xml-text.js";

describe("extractXmlText", () => {
  it("keeps text, CDATA and attribute values, drops markup and comments", () => {
    const xml = '<?xml version="1.0"?><!DOCTYPE a><a x="1\' or 1=1"><!-- c --><b>text</b><![CDATA[<script>]]></a>';
    expect(extractXmlText(xml)).toBe("1' or 1=1 text <script>");
  });

  it("survives truncated markup", () => {
    expect(extractXmlText("<a><b attr='x")).toBe("x");
    expect(extractXmlText("<![CDATA[open")).toBe("open");
  });
});
