<?xml version="1.0" encoding="utf-8"?>
<!-- Makes a wirefeed Atom or RSS feed opened in a browser read as a page. Readers ignore it. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="utf-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template name="page">
    <xsl:param name="title"/>
    <xsl:param name="subtitle"/>
    <xsl:param name="self"/>
    <xsl:param name="home"/>
    <xsl:param name="items"/>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> · wirefeed</title>
        <style>
          :root { color-scheme: light dark; --muted: #6b7280; --line: #e5e7eb; --accent: #1d4ed8; }
          @media (prefers-color-scheme: dark) { :root { --line: #374151; --accent: #93c5fd; } }
          body { font: 16px/1.55 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto;
                 max-width: 46rem; padding: 1.5rem 1rem 3rem; }
          h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
          a { color: var(--accent); }
          .muted { color: var(--muted); }
          .about { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem;
                   margin: 1rem 0 1.5rem; font-size: .95rem; }
          .about code { word-break: break-all; }
          ol { list-style: none; padding: 0; }
          li { padding: .8rem 0; border-bottom: 1px solid var(--line); }
          li h2 { font-size: 1.05rem; margin: 0 0 .2rem; }
          .summary { margin: .3rem 0 0; }
        </style>
      </head>
      <body>
        <h1 id="feed-title"><xsl:value-of select="$title"/></h1>
        <p class="muted"><xsl:value-of select="$subtitle"/></p>
        <div class="about">
          <strong>This is a news feed.</strong> Subscribe by copying its address into your feed
          reader: <code id="feed-url"><xsl:value-of select="$self"/></code>.
          <xsl:if test="$home"> <a href="{$home}">All feeds and sources</a>.</xsl:if>
        </div>
        <ol id="items"><xsl:copy-of select="$items"/></ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="/atom:feed">
    <xsl:call-template name="page">
      <xsl:with-param name="title" select="atom:title"/>
      <xsl:with-param name="subtitle" select="atom:subtitle"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="atom:link[@rel='alternate']/@href"/>
      <xsl:with-param name="items">
        <xsl:for-each select="atom:entry">
          <li class="item">
            <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
            <div class="muted">
              <xsl:value-of select="substring(atom:published, 1, 10)"/>
              <xsl:if test="atom:source/atom:title"> · <xsl:value-of select="atom:source/atom:title"/></xsl:if>
              <xsl:if test="atom:author/atom:name"> · <xsl:value-of select="atom:author/atom:name"/></xsl:if>
              <xsl:variable name="others" select="count(atom:link[@rel='related'])"/>
              <xsl:if test="$others &gt; 0"> · also ran at <xsl:value-of select="$others"/> other outlet<xsl:if test="$others &gt; 1">s</xsl:if></xsl:if>
            </div>
            <xsl:if test="atom:summary">
              <p class="summary"><xsl:value-of select="atom:summary"/></p>
            </xsl:if>
          </li>
        </xsl:for-each>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="/rss">
    <xsl:call-template name="page">
      <xsl:with-param name="title" select="channel/title"/>
      <xsl:with-param name="subtitle" select="channel/description"/>
      <xsl:with-param name="self" select="channel/atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="channel/link"/>
      <xsl:with-param name="items">
        <xsl:for-each select="channel/item">
          <li class="item">
            <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
            <div class="muted">
              <xsl:value-of select="substring(pubDate, 6, 11)"/>
              <xsl:if test="source"> · <xsl:value-of select="source"/></xsl:if>
              <xsl:if test="dc:creator"> · <xsl:value-of select="dc:creator"/></xsl:if>
              <xsl:variable name="others" select="count(atom:link[@rel='related'])"/>
              <xsl:if test="$others &gt; 0"> · also ran at <xsl:value-of select="$others"/> other outlet<xsl:if test="$others &gt; 1">s</xsl:if></xsl:if>
            </div>
          </li>
        </xsl:for-each>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>
</xsl:stylesheet>
