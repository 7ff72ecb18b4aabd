"""pytorch/examples' fast_neural_style TransformerNet, with dpst's width and
residual-block options (defaults = the original). Same parameter names as
src/models/transform_net.cpp. dpst's convention: input and output RGB in [0, 1]
(the original is used on 0-255 images). With styles > 1 every InstanceNorm holds one row of
weight and bias per style (dpst's (N, C) layout, Dumoulin et al.'s conditional instance
norm) and forward takes the N style weights as a second input.
"""
import torch
import torch.nn as nn


class ConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ConditionalInstanceNorm2d(nn.Module):
    """InstanceNorm2d whose weight and bias are (styles, C); the rows are mixed by the
    style weights that TransformerNet.forward sets before running the layers."""

    def __init__(self, channels, styles):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(styles, channels))
        self.bias = nn.Parameter(torch.zeros(styles, channels))
        self.style_weights = None

    def forward(self, x):
        w = self.style_weights.view(-1, 1)
        gamma, beta = (w * self.weight).sum(0), (w * self.bias).sum(0)
        return nn.functional.instance_norm(x) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)


def instance_norm(channels, styles):
    return nn.InstanceNorm2d(channels, affine=True) if styles == 1 else ConditionalInstanceNorm2d(channels, styles)


class ResidualBlock(nn.Module):
    def __init__(self, channels, styles=1):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = instance_norm(channels, styles)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = instance_norm(channels, styles)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + x


class UpsampleConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):
    def __init__(self, width=32, residual_blocks=5, styles=1):
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        self.styles = styles
        self.conv1 = ConvLayer(3, w1, 9, 1)
        self.in1 = instance_norm(w1, styles)
        self.conv2 = ConvLayer(w1, w2, 3, 2)
        self.in2 = instance_norm(w2, styles)
        self.conv3 = ConvLayer(w2, w3, 3, 2)
        self.in3 = instance_norm(w3, styles)
        self.blocks = residual_blocks
        for i in range(1, residual_blocks + 1):
            setattr(self, "res%d" % i, ResidualBlock(w3, styles))
        self.deconv1 = UpsampleConvLayer(w3, w2, 3, 1, upsample=2)
        self.in4 = instance_norm(w2, styles)
        self.deconv2 = UpsampleConvLayer(w2, w1, 3, 1, upsample=2)
        self.in5 = instance_norm(w1, styles)
        self.deconv3 = ConvLayer(w1, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, x, style_weights=None):
        """style_weights: (styles,) floats, for a net of several styles (one-hot picks one)."""
        if self.styles > 1:
            if style_weights is None:
                raise ValueError("this TransformerNet holds %d styles: pass their weights" % self.styles)
            for m in self.modules():
                if isinstance(m, ConditionalInstanceNorm2d):
                    m.style_weights = style_weights
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for i in range(1, self.blocks + 1):
            y = getattr(self, "res%d" % i)(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)
