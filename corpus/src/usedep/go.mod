module example.com/usedep

go 1.19

require example.com/dep v1.0.0

replace example.com/dep => ../dep-v1
