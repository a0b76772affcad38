// An empty program: mk/layers.mk links one layer's whole library against the layers below it, and any
// symbol the layer takes from a layer above is then undefined. Never add code here.
int main() { return 0; }
