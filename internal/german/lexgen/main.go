// Command lexgen derives the compact lexicon that package german embeds from
// three Debian packages: the German thesaurus OpenThesaurus
// (openthesaurus-de-text, LGPL-2.1+), the German word list of igerman98
// (wngerman, GPL-2+) and the Ding German-English dictionary (trans-de-en,
// GPL-2+). It writes, gzip-compressed and reproducible:
//
//	thesaurus.txt.gz  one synonym set per line, folded words separated by ";"
//	words.txt.gz      one folded German word per line, sorted
//	en-de.txt.gz      one English word per line, a tab, and its German
//	                  translations (folded, likeliest first) separated by ";"
//
// Run it through `go generate ./internal/german` (scripts/gen-lexicon installs
// the packages first). Words are folded with german.Fold, so "Müll" and
// "Muell" are one entry; annotations such as "(ugs.)" are dropped, and only
// single words (hyphens allowed) are kept, since the analyzer relates words,
// not phrases.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"citybot/internal/german"
)

func main() {
	thes := flag.String("thesaurus", "/usr/share/openthesaurus-de/openthesaurus.txt", "OpenThesaurus text export")
	words := flag.String("words", "/usr/share/dict/ngerman", "German word list, one word per line")
	dict := flag.String("dict", "/usr/share/trans/de-en", "Ding German-English dictionary")
	out := flag.String("out", "lexicon", "output folder")
	flag.Parse()
	if err := run(*thes, *words, *dict, *out); err != nil {
		fmt.Fprintln(os.Stderr, "lexgen:", err)
		os.Exit(1)
	}
}

var annotation = regexp.MustCompile(`\([^)]*\)`)

// word reports whether w is a single word of letters (and inner hyphens).
func word(w string) bool {
	if w == "" || strings.HasPrefix(w, "-") || strings.HasSuffix(w, "-") {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && r != '-' {
			return false
		}
	}
	return true
}

func run(thesPath, wordsPath, dictPath, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// thesaurus
	f, err := os.Open(thesPath)
	if err != nil {
		return fmt.Errorf("%w (Debian: apt-get install openthesaurus-de-text)", err)
	}
	defer f.Close()
	var sets []string
	seenSet := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		var members []string
		seen := map[string]bool{}
		for _, t := range strings.Split(line, ";") {
			t = strings.TrimSpace(annotation.ReplaceAllString(t, ""))
			if !word(t) {
				continue
			}
			t = german.Fold(t)
			if len([]rune(t)) < 3 || seen[t] {
				continue
			}
			seen[t] = true
			members = append(members, t)
		}
		if len(members) < 2 {
			continue
		}
		sort.Strings(members)
		s := strings.Join(members, ";")
		if !seenSet[s] {
			seenSet[s] = true
			sets = append(sets, s)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	sort.Strings(sets)
	if err := writeGz(filepath.Join(out, "thesaurus.txt.gz"), sets); err != nil {
		return err
	}
	// word list
	wf, err := os.Open(wordsPath)
	if err != nil {
		return fmt.Errorf("%w (Debian: apt-get install wngerman)", err)
	}
	defer wf.Close()
	set := map[string]bool{}
	sc = bufio.NewScanner(wf)
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if !word(w) || strings.Contains(w, "-") {
			continue
		}
		w = german.Fold(w)
		if n := len([]rune(w)); n < 3 || n > 40 {
			continue
		}
		set[w] = true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	list := make([]string, 0, len(set))
	for w := range set {
		list = append(list, w)
	}
	sort.Strings(list)
	if err := writeGz(filepath.Join(out, "words.txt.gz"), list); err != nil {
		return err
	}
	// English -> German dictionary, German words checked against the list
	en, err := buildEnglish(dictPath, set)
	if err != nil {
		return err
	}
	if err := writeGz(filepath.Join(out, "en-de.txt.gz"), en); err != nil {
		return err
	}
	fmt.Printf("lexgen: %d synonym sets, %d words, %d English words\n", len(sets), len(list), len(en))
	return nil
}

func writeGz(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	// no name or time in the header: the output is byte-identical on every run
	w := bufio.NewWriter(zw)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
