#!/usr/bin/env python3
"""check_ledger_xlsx.py - the ledger workbook as Excel and LibreOffice see it.

Usage: check_ledger_xlsx.py TEST_LEDGER_XLSX_BINARY

Writes docs/examples/ledger-2025.json with `test_ledger_xlsx --write`, then
  * reads the .xlsx as a zip (python3 zipfile): sheet names, frozen header,
    A4 landscape one page wide, repeated header row, the red light's fill
    colour (cell style -> cellXfs -> fills), the indent of a level-4 title;
  * converts both sheets to CSV with `soffice --headless --convert-to csv`
    (a private profile) and checks the values as shown.
Without soffice it exits 77 (skipped), except under CI=true, where it fails:
CI must install libreoffice-calc-nogui (scripts/deps.sh).
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
failures = []


def check(cond, what):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        failures.append(what)


def col_of(ref):
    return "".join(ch for ch in ref if ch.isalpha())


def sheet_rows(z, name, strings):
    """{row number: {column letter: (text, style index)}}"""
    root = ET.fromstring(z.read(name))
    rows = {}
    for c in root.iterfind(".//m:sheetData/m:row/m:c", NS):
        ref = c.get("r")
        v = c.find("m:v", NS)
        text = None
        if v is not None:
            text = strings[int(v.text)] if c.get("t") == "s" else v.text
        rownum = int("".join(ch for ch in ref if ch.isdigit()))
        rows.setdefault(rownum, {})[col_of(ref)] = (text, int(c.get("s", "0")))
    return root, rows


def check_zip(path):
    z = zipfile.ZipFile(path)
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    names = [s.get("name") for s in wb.iterfind(".//m:sheets/m:sheet", NS)]
    check(names == ["台账", "赛马排名"], "sheets are 台账 and 赛马排名 (%s)" % names)
    titles = [d.text for d in wb.iterfind(".//m:definedNames/m:definedName", NS)
              if d.get("name") == "_xlnm.Print_Titles"]
    check(any("$3:$3" in (t or "") for t in titles), "header row 3 repeats on every printed page (%s)" % titles)

    sst = ET.fromstring(z.read("xl/sharedStrings.xml"))
    strings = ["".join(t.text or "" for t in si.iterfind(".//m:t", NS)) for si in sst.iterfind("m:si", NS)]
    styles = ET.fromstring(z.read("xl/styles.xml"))
    xfs = styles.findall("m:cellXfs/m:xf", NS)
    fills = styles.findall("m:fills/m:fill", NS)

    root, rows = sheet_rows(z, "xl/worksheets/sheet1.xml", strings)
    pane = root.find(".//m:sheetView/m:pane", NS)
    check(pane is not None and pane.get("ySplit") == "3" and pane.get("state") == "frozen",
          "rows 1-3 (title and header) are frozen")
    setup = root.find("m:pageSetup", NS)
    check(setup is not None and setup.get("orientation") == "landscape" and setup.get("paperSize") == "9",
          "A4 landscape")
    check(setup is not None and setup.get("fitToHeight") == "0" and setup.get("fitToWidth", "1") == "1",
          "fit to one page wide")
    fit = root.find("m:sheetPr/m:pageSetUpPr", NS)
    check(fit is not None and fit.get("fitToPage") == "1", "fit-to-page is on")

    def row_with_title(title):
        for n, cells in rows.items():
            if cells.get("B", (None,))[0] == title:
                return cells
        return None

    def fill_of(cell):
        xf = xfs[cell[1]]
        pf = fills[int(xf.get("fillId", "0"))].find("m:patternFill", NS)
        fg = pf.find("m:fgColor", NS) if pf is not None else None
        return (pf.get("patternType") if pf is not None else None, fg.get("rgb") if fg is not None else None)

    red = row_with_title("推进网格驿站建设")
    check(red is not None and red["K"][0] == "红", "the red task's light cell says 红")
    if red:
        check(fill_of(red["K"]) == ("solid", "FFFF0000"), "the red light cell is filled FF0000 (%s)" % (fill_of(red["K"]),))
    for title, word, rgb in (("孵化社区社会组织30支以上", "绿", "FF00B050"), ("党建引领基层治理", "黄", "FFFFFF00"),
                             ("完成驿站选址论证", "蓝", "FF5B9BD5"), ("改造农贸市场", "灰", "FFBFBFBF")):
        cells = row_with_title(title)
        check(cells is not None and cells["K"][0] == word and fill_of(cells["K"]) == ("solid", rgb),
              "%s: light %s filled %s" % (title, word, rgb))
    deep = row_with_title("完成驿站选址论证")
    if deep:
        align = xfs[deep["B"][1]].find("m:alignment", NS)
        check(align is not None and align.get("indent") == "3", "a level-4 title is indented 3")
    top = row_with_title("党建引领基层治理")
    if top:
        align = xfs[top["B"][1]].find("m:alignment", NS)
        check(align is None or align.get("indent") in (None, "0"), "a level-1 title is not indented")
    formula = [c for c in root.iterfind(".//m:sheetData/m:row/m:c", NS) if c.find("m:f", NS) is not None]
    check(not formula, "no cell is a formula (text starting with = stays text)")


def soffice_csv(soffice, path, work):
    profile = os.path.join(work, "lo-profile")
    cmd = [soffice, "-env:UserInstallation=file://" + profile, "--headless", "--norestore",
           "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
           "--outdir", work, path]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    out = proc.stdout.decode("utf-8", "replace")
    base = os.path.splitext(os.path.basename(path))[0]
    sheets = {}
    for name in ("台账", "赛马排名"):
        f = os.path.join(work, "%s-%s.csv" % (base, name))
        if not os.path.exists(f):
            print(out)
            check(False, "soffice wrote sheet %s as CSV" % name)
            continue
        with open(f, encoding="utf-8", newline="") as fh:
            sheets[name] = list(csv.reader(fh))
    return sheets


def check_values(sheets):
    ledger = sheets.get("台账")
    if ledger:
        check(ledger[0][0] == "某街道2025年重点工作任务台账", "title row: %s" % ledger[0][0])
        check(ledger[1][0].startswith("截至 2025-06-30"), "as-of row: %s" % ledger[1][0])
        check(ledger[2] == ["序号", "任务", "牵头单位", "配合单位", "责任人", "分管领导", "完成时限", "进度",
                            "进度来源", "状态", "灯", "最新进展"], "header: %s" % ledger[2])
        by_title = {r[1]: r for r in ledger[3:]}
        check(by_title.get("推进网格驿站建设") == ["（一）", "推进网格驿站建设", "社区治理科", "平安办、城管科", "张华",
                                            "赵主任", "2025-06-30", "60%", "自报", "推进中", "红",
                                            "已建成6处，剩余4处选址受阻"], "a red task, every column")
        r = by_title.get("新增网格驿站10处", [""] * 12)
        check(r[6] == "2025-06-30（继承）" and r[9] == "受阻", "an inherited due date is marked (继承): %s" % r[6])
        r = by_title.get("党建引领基层治理", [""] * 12)
        check(r[6] == "2025-12-31（继承）" and r[8] == "下级汇总" and r[10] == "黄", "a section: %s" % r)
        statuses = [r[9] for r in ledger[3:]]
        for s in ("未开始", "待签收", "推进中", "受阻", "已办结", "已销号", "已取消"):
            check(s in statuses, "status %s appears" % s)
        r = by_title.get('=HYPERLINK("http://x","新建口袋公园2处")')
        check(r is not None and r[6] == "" and r[7] == "", "formula-like text is text; null due and progress are empty")
        check(len(ledger) == 13, "ten tasks under three heading rows (%d rows)" % len(ledger))
    ranking = sheets.get("赛马排名")
    if ranking:
        check(ranking[0][0] == "某街道2025年重点工作任务赛马排名（2025Q2）", "ranking title: %s" % ranking[0][0])
        check(ranking[3] == ["1", "城建科", "96.5", "100.0%", "+12.5", "0.0%", "4", "红榜"], "rank 1: %s" % ranking[3])
        check(ranking[6] == ["4", "社区治理科", "61.0", "50.0%", "-18.3", "50.0%", "4", "黑榜"], "rank 4: %s" % ranking[6])


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    work = tempfile.mkdtemp(prefix="plantrack-xlsx.")
    try:
        path = os.path.join(work, "ledger.xlsx")
        subprocess.run([sys.argv[1], "--write", path], check=True)
        check_zip(path)
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if not soffice:
            if os.environ.get("CI") == "true":
                print("FAIL soffice not found; CI must have libreoffice-calc-nogui (scripts/deps.sh)")
                return 1
            print("soffice not found: LibreOffice checks skipped (install libreoffice-calc-nogui)")
            return 1 if failures else 77
        check_values(soffice_csv(soffice, path, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
