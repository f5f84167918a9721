module palisade.test/webapp

go 1.19
