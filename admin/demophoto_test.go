package admin

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand"
	"testing"
)

// demoPhotos draws two photo-like JPEGs of an illegal dump on a forest
// path (a wide shot and a close-up), for the field report screenshots of
// the README: the browser tests show real-looking demo data without a
// photo file in the repository. Deterministic.
func demoPhotos(t testing.TB) (wide, close []byte) {
	t.Helper()
	img := dumpScene()
	enc := func(m image.Image) []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	return enc(img), enc(zoom(img, image.Rect(50, 175, 290, 355)))
}

const photoW, photoH = 480, 360

func dumpScene() *image.RGBA {
	rng := rand.New(rand.NewSource(13))
	img := image.NewRGBA(image.Rect(0, 0, photoW, photoH))
	horizon := 170.0
	// Tree line height along x: a few waves.
	treeTop := func(x float64) float64 {
		return horizon - 70 - 30*math.Sin(x/37) - 18*math.Sin(x/13+1) - 10*math.Sin(x/5.3)
	}
	// Value noise for leaves and grass: random values on a coarse grid,
	// interpolated, at two scales.
	grid := func(cell int) func(x, y float64) float64 {
		w, h := photoW/cell+2, photoH/cell+2
		v := make([]float64, w*h)
		for i := range v {
			v[i] = rng.Float64()
		}
		return func(x, y float64) float64 {
			gx, gy := x/float64(cell), y/float64(cell)
			x0, y0 := int(gx), int(gy)
			ax, ay := gx-float64(x0), gy-float64(y0)
			at := func(i, j int) float64 { return v[((y0+j)%h)*w+(x0+i)%w] }
			return (at(0, 0)*(1-ax)+at(1, 0)*ax)*(1-ay) + (at(0, 1)*(1-ax)+at(1, 1)*ax)*ay
		}
	}
	fine, coarse := grid(3), grid(11)
	leaves := func(x, y float64) float64 { return 0.55*fine(x, y) + 0.45*coarse(x, y) }
	for y := 0; y < photoH; y++ {
		for x := 0; x < photoW; x++ {
			fx, fy := float64(x), float64(y)
			var c [3]float64
			switch {
			case fy < treeTop(fx):
				k := fy / horizon
				c = [3]float64{165 + 60*k, 195 + 40*k, 228 + 10*k}
			case fy < horizon+8:
				g := leaves(fx, fy)
				c = [3]float64{20 + 40*g, 45 + 70*g, 22 + 30*g}
				if int(fx)%41 < 3 && fy > horizon-30 {
					c = [3]float64{60, 45, 35} // trunks
				}
			default:
				g := leaves(fx, fy*2)
				c = [3]float64{70 + 50*g, 85 + 45*g, 40 + 30*g} // grass and leaves
				// The path narrows towards the trees.
				k := (fy - horizon) / (float64(photoH) - horizon)
				half := 20 + 190*k
				mid := 250 - 20*k
				if math.Abs(fx-mid) < half+6*coarse(fx, fy) {
					g := fine(fx*1.5, fy*1.5)
					c = [3]float64{140 + 35*g, 128 + 32*g, 104 + 28*g}
				}
			}
			img.Set(x, y, rgb(c))
		}
	}
	// Mattress leaning at the left, striped.
	fillPoly(img, [][2]float64{{18, 250}, {98, 212}, {112, 300}, {34, 348}}, func(x, y float64) [3]float64 {
		s := 0.9 + 0.1*math.Sin((x+y)/4)
		return [3]float64{214 * s, 198 * s, 168 * s}
	})
	// A fridge, lit from the right, with its door gap and handle.
	fillPoly(img, [][2]float64{{118, 186}, {192, 182}, {196, 322}, {122, 328}}, func(x, y float64) [3]float64 {
		k := 0.8 + 0.2*(x-118)/78
		if math.Abs(y-236) < 1.5 {
			return [3]float64{120, 120, 118}
		}
		if x > 180 && x < 185 && ((y > 200 && y < 225) || (y > 246 && y < 280)) {
			return [3]float64{90, 90, 92}
		}
		return [3]float64{232 * k, 232 * k, 226 * k}
	})
	// Bin bags.
	fillEllipse(img, 222, 318, 36, 26, func(x, y float64) [3]float64 {
		h := math.Max(0, 1-math.Hypot(x-212, y-305)/24)
		return [3]float64{38 + 90*h, 42 + 90*h, 52 + 95*h}
	})
	fillEllipse(img, 262, 333, 30, 22, func(x, y float64) [3]float64 {
		h := math.Max(0, 1-math.Hypot(x-254, y-322)/20)
		return [3]float64{30 + 70*h, 62 + 80*h, 120 + 90*h}
	})
	// Old tyres: two lying, one standing.
	for _, tyre := range [][4]float64{{320, 300, 46, 19}, {372, 318, 44, 18}} {
		ring(img, tyre[0], tyre[1], tyre[2], tyre[3], 0.5)
	}
	ring(img, 410, 262, 36, 36, 0.55)
	// Shadows on the ground, then film grain and a vignette.
	for y := 0; y < photoH; y++ {
		for x := 0; x < photoW; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			c := [3]float64{float64(r >> 8), float64(g >> 8), float64(b >> 8)}
			d := math.Hypot(float64(x-photoW/2)/photoW, float64(y-photoH/2)/photoH)
			v := 1 - 0.35*d*d
			n := rng.NormFloat64() * 7
			if y > int(horizon) {
				n *= 1.8 // gravel and leaves are rougher than the sky
			}
			img.Set(x, y, rgb([3]float64{c[0]*v + n, c[1]*v + n, c[2]*v + n}))
		}
	}
	return img
}

func rgb(c [3]float64) color.RGBA {
	cl := func(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }
	return color.RGBA{cl(c[0]), cl(c[1]), cl(c[2]), 255}
}

func fillPoly(img *image.RGBA, p [][2]float64, paint func(x, y float64) [3]float64) {
	minX, minY, maxX, maxY := p[0][0], p[0][1], p[0][0], p[0][1]
	for _, q := range p {
		minX, maxX = math.Min(minX, q[0]), math.Max(maxX, q[0])
		minY, maxY = math.Min(minY, q[1]), math.Max(maxY, q[1])
	}
	for y := int(minY); y <= int(maxY); y++ {
		for x := int(minX); x <= int(maxX); x++ {
			fx, fy := float64(x)+.5, float64(y)+.5
			in := false
			for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
				if (p[i][1] > fy) != (p[j][1] > fy) && fx < (p[j][0]-p[i][0])*(fy-p[i][1])/(p[j][1]-p[i][1])+p[i][0] {
					in = !in
				}
			}
			if in {
				img.Set(x, y, rgb(paint(fx, fy)))
			}
		}
	}
}

func fillEllipse(img *image.RGBA, cx, cy, rx, ry float64, paint func(x, y float64) [3]float64) {
	for y := int(cy - ry); y <= int(cy+ry); y++ {
		for x := int(cx - rx); x <= int(cx+rx); x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if dx*dx+dy*dy <= 1 {
				img.Set(x, y, rgb(paint(float64(x), float64(y))))
			}
		}
	}
}

// ring draws a tyre: an elliptic ring whose hole is inner of its size.
func ring(img *image.RGBA, cx, cy, rx, ry, inner float64) {
	for y := int(cy - ry); y <= int(cy+ry); y++ {
		for x := int(cx - rx); x <= int(cx+rx); x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			d := math.Sqrt(dx*dx + dy*dy)
			if d <= 1 && d >= inner {
				tread := 24 + 10*math.Sin(math.Atan2(dy, dx)*28)
				shade := 1 + 0.5*(1-math.Abs(d-(1+inner)/2)/((1-inner)/2))
				img.Set(x, y, rgb([3]float64{tread * shade, tread * shade, (tread + 3) * shade}))
			}
		}
	}
}

// zoom scales the part r of img up to a whole photo (bilinear).
func zoom(img *image.RGBA, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, photoW, photoH))
	sx, sy := float64(r.Dx())/photoW, float64(r.Dy())/photoH
	for y := 0; y < photoH; y++ {
		for x := 0; x < photoW; x++ {
			fx, fy := float64(r.Min.X)+float64(x)*sx, float64(r.Min.Y)+float64(y)*sy
			x0, y0 := int(fx), int(fy)
			ax, ay := fx-float64(x0), fy-float64(y0)
			var c [3]float64
			for _, q := range [][3]float64{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
				p := img.RGBAAt(x0+int(q[0]), y0+int(q[1]))
				c[0] += float64(p.R) * q[2]
				c[1] += float64(p.G) * q[2]
				c[2] += float64(p.B) * q[2]
			}
			out.Set(x, y, rgb(c))
		}
	}
	return out
}
