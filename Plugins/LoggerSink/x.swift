import SluiceSDK
